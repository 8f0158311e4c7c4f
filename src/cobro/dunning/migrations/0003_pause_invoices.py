# Pauses that name invoices (the portal's "I have paid"), through a row of the organization.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('dunning', '0002_policyform_changes_heartbeat'),
        ('ledger', '0009_customer_address'),
    ]

    operations = [
        migrations.CreateModel(
            name='PausedInvoice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('invoice', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ledger.invoice')),
                ('organization', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='ledger.organization')),
                ('pause', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='dunning.pause')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('organization', 'pause', 'invoice'), name='uniq_paused_invoice')],
            },
        ),
        migrations.AddField(
            model_name='pause',
            name='invoices',
            field=models.ManyToManyField(blank=True, related_name='pauses', through='dunning.PausedInvoice', to='ledger.invoice'),
        ),
    ]
