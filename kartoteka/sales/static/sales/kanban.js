/* Kartoteka: the deals board. Cards are dragged between columns with SortableJS; a drop posts
 * the stage and the deal's version to the deal's move URL through htmx. The answer swaps the
 * affected columns in place (out of band), asks for the fields a stage needs (a modal), or
 * says why the move was refused. A card that did not move is put back where it was.
 * No inline scripts: everything is read from data- attributes (the CSP forbids the rest). */
(function () {
  "use strict";

  var board = null;

  function modal() {
    var element = document.getElementById("kanban-modal");
    return element ? bootstrap.Modal.getOrCreateInstance(element) : null;
  }

  function putBack(move) {
    // Still in the page means the columns were not redrawn: the deal did not move.
    if (!document.body.contains(move.item)) return;
    var before = move.from.children[move.oldIndex] || null;
    move.from.insertBefore(move.item, before);
  }

  function drop(event) {
    if (event.from === event.to) return;  // the order inside a column means nothing
    var card = event.item;
    var move = { item: card, from: event.from, oldIndex: event.oldIndex };
    var done = function () { putBack(move); };
    htmx.ajax("POST", card.dataset.moveUrl, {
      source: card,
      target: "#kanban-ask",
      swap: "innerHTML",
      values: {
        stage: event.to.dataset.stage,
        version: card.dataset.version,
        filters: board.dataset.filters || ""
      }
    }).then(done, done);
  }

  function sortable(list) {
    if (list.dataset.sortable) return;
    list.dataset.sortable = "1";
    Sortable.create(list, {
      group: "deals",
      draggable: "[data-deal]",
      animation: 150,
      onEnd: drop
    });
  }

  function init(root) {
    if (!board) return;
    if (root.matches && root.matches("[data-stage]")) sortable(root);
    if (root.querySelectorAll) root.querySelectorAll("[data-stage]").forEach(sortable);
  }

  document.addEventListener("DOMContentLoaded", function () {
    board = document.querySelector("[data-kanban]");
    if (!board) return;
    // SortableJS leaves style attributes on the cards it moved; htmx would copy them onto the
    // redrawn cards with setAttribute, which the CSP (style-src 'self') blocks.
    htmx.config.attributesToSettle = ["class", "width", "height"];
    init(board);
    htmx.onLoad(init);

    // The server asks for fields: show them in the modal; a successful move closes it.
    document.body.addEventListener("kanban:ask", function () {
      var dialog = modal();
      if (dialog) dialog.show();
    });
    document.body.addEventListener("kanban:moved", function () {
      var dialog = modal();
      if (dialog) dialog.hide();
    });
    // A refusal (403) carries its message: swap it like any other answer.
    document.body.addEventListener("htmx:beforeSwap", function (event) {
      var source = event.detail.requestConfig && event.detail.requestConfig.elt;
      if (event.detail.xhr.status === 403 && source && source.closest("[data-kanban], #kanban-ask")) {
        event.detail.shouldSwap = true;
        event.detail.isError = false;
      }
    });
  });
})();
