"""The replica router without a replica (#16): everything reads and writes the primary; with the
context set, reads (only reads) go to the alias it names. The real replica: tests/integration/test_replica.py."""

from cobro.ledger import replica
from cobro.ledger.models import Customer


def test_without_a_replica_everything_reads_the_primary():
    router = replica.ReplicaRouter()
    with replica.reading_from_replica() as lag:
        assert lag is None and router.db_for_read(Customer) is None  # None: Django's default alias
    assert not replica.configured()


def test_inside_the_context_reads_go_to_the_replica_and_writes_never_do():
    router = replica.ReplicaRouter()
    token = replica._reading.set(replica.ALIAS)
    try:
        assert router.db_for_read(Customer) == "replica"
        assert router.db_for_write(Customer) == "default"
    finally:
        replica._reading.reset(token)
    assert router.db_for_read(Customer) is None
    assert router.allow_migrate("default", "ledger") and not router.allow_migrate("replica", "ledger")
