() => {
  // "What would change the answer?": a click on an edit (a button carrying its edited text in
  // data-text) puts that text in the Explain tab's text box and presses Explain, as typing it
  // and pressing the button would. The text is the edited ids decoded: the panel says it may
  // tokenize differently when explained again.
  if (window.__wwEdits) return [];
  window.__wwEdits = true;
  document.addEventListener("click", (event) => {
    const button = event.target.closest && event.target.closest("#ww-cf-panel .ww-cf-load");
    if (!button) return;
    const box = document.querySelector("#ww-text textarea, #ww-text input");
    const explain = document.querySelector("#ww-explain");
    if (!box || !explain) return;
    box.value = button.getAttribute("data-text") || "";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => explain.click(), 0);
    box.scrollIntoView({ behavior: "smooth", block: "center" });
  });
  return [];
}
