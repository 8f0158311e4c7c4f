// Drag and drop: SortableJS moves the card in the page, htmx tells the server; the board then
// reloads itself (cardMoved) so counts and totals stay exact, or goes back if the move is refused.
function cobroBoard(root) {
  root.querySelectorAll(".column-cards").forEach(function (list) {
    if (list._sortable) return;
    list._sortable = Sortable.create(list, {
      group: "board", animation: 120, forceFallback: true, fallbackTolerance: 4, delayOnTouchOnly: true, delay: 150, draggable: ".kcard", filter: "select,button,option", preventOnFilter: false,
      onAdd: function (evt) {
        var id = evt.item.dataset.id, stage = evt.to.dataset.stage;
        htmx.ajax("POST", "/board/move/" + id + "/", {values: {stage: stage}, swap: "none"}).then(function () {
          if (!document.body.dataset.moveFailed) return;
          delete document.body.dataset.moveFailed;
          evt.from.insertBefore(evt.item, evt.from.children[evt.oldIndex] || null);
        });
      }
    });
  });
}
document.addEventListener("htmx:responseError", function (e) {
  if (e.detail.pathInfo && e.detail.pathInfo.requestPath.indexOf("/board/move/") === 0) {
    document.body.dataset.moveFailed = "1";
    alert(e.detail.xhr.responseText);
  }
});
document.addEventListener("DOMContentLoaded", function () { cobroBoard(document); });
document.addEventListener("htmx:load", function () { cobroBoard(document); });  // the board reloads itself
