() => {
  // A share link's `tab=<id>` opens that view's tab (one script for every view: app.py fills
  // TABS with each extra view's TAB_ID and TITLE). The tab's button is found by its id, among
  // the tab buttons by its title, or — on a phone — in gradio's "More tabs" menu, where it is a
  // plain button; gradio may draw the tabs after this runs, so it keeps looking for 20 s.
  const TABS = __TABS__;
  const wanted = new URLSearchParams(window.location.search).get("tab");
  if (!wanted || !(wanted in TABS)) return [];
  const title = TABS[wanted];
  const named = (selector) =>
    Array.from(document.querySelectorAll(selector)).find((b) => b.textContent.trim() === title);
  const open = () => {
    const button =
      document.querySelector(`#ww-tab-${wanted}-button`) ||
      named("button[role=tab]") ||
      named("#ww-tabs .overflow-dropdown button");
    if (button) button.click();
    return !!button;
  };
  if (!open()) {
    const timer = setInterval(() => open() && clearInterval(timer), 200);
    setTimeout(() => clearInterval(timer), 20000);
  }
  return [];
}
