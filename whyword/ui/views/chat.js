() => {
  // The Chat view's click bridge (as layers.js does it): press on a reply token and release
  // on the same one (one token) or on a later or earlier one (a dragged span); the span
  // "first:end" (end excluded, as the CLI's --span) goes into the span box, then a hidden button explains it. Python does the rest.
  if (window.__wwChat) return [];
  window.__wwChat = true;
  let from = null;

  function index(event) {
    const chip = event.target && event.target.closest && event.target.closest("[data-ww-reply]");
    if (!chip || !chip.closest("#ww-chat-conversation")) return null;
    const k = parseInt(chip.getAttribute("data-ww-reply"), 10);
    return Number.isFinite(k) ? k : null;
  }

  function send(a, b) {
    const box = document.querySelector("#ww-chat-span textarea, #ww-chat-span input");
    const button = document.querySelector("#ww-chat-click-btn");
    if (!box || !button) return;
    box.value = Math.min(a, b) + ":" + (Math.max(a, b) + 1); // FIRST:END, END excluded
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => button.click(), 0);
  }

  document.addEventListener("pointerdown", (event) => {
    from = index(event);
    if (from !== null) event.preventDefault(); // no text selection while dragging a span
  });
  document.addEventListener("pointerup", (event) => {
    const to = index(event);
    if (from !== null && to !== null) send(from, to);
    from = null;
  });
  return [];
}
