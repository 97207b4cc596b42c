() => {
  // The Sequence view's click bridge (the same mechanism as ../bridge.js, for this view's
  // elements): a click on a next-step bar, a strip token or a heatmap row writes its value
  // into a hidden textbox and presses a hidden button; Python does the rest.
  if (window.__wwSequence) return [];
  window.__wwSequence = true;
  const ROUTES = {
    bar: ["#ww-seq-click textarea, #ww-seq-click input", "#ww-seq-click-btn"],
    pos: ["#ww-seq-pos textarea, #ww-seq-pos input", "#ww-seq-pos-btn"],
    row: ["#ww-seq-row textarea, #ww-seq-row input", "#ww-seq-row-btn"],
  };
  let last = { key: null, at: 0 };

  function send(route, value) {
    const [boxSel, buttonSel] = ROUTES[route];
    const box = document.querySelector(boxSel);
    const button = document.querySelector(buttonSel);
    if (!box || !button) return;
    const now = Date.now();
    const key = route + value;
    if (last.key === key && now - last.at < 400) return; // one click, one send
    last = { key, at: now };
    box.value = value + ":" + now; // the nonce makes a second click on the same thing count
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => button.click(), 0);
  }

  function handler(route) {
    return (data) => {
      const point = data && data.points && data.points[0];
      if (!point) return;
      let value = point.customdata;
      if (Array.isArray(value)) value = value[0];
      if (value === undefined || value === null || !/^\d+$/.test(String(value))) return;
      send(route, String(value));
    };
  }

  const PLOTS = { "#ww-seq-next .js-plotly-plot": "bar", "#ww-seq-steps .js-plotly-plot": "row" };
  function bind() {
    for (const [selector, route] of Object.entries(PLOTS)) {
      document.querySelectorAll(selector).forEach((plot) => {
        if (typeof plot.on !== "function" || !plot._ev) return;
        if (plot.__wwSeqEmitter === plot._ev) return; // already bound to this emitter
        plot.on("plotly_click", handler(route));
        plot.__wwSeqEmitter = plot._ev;
        plot.setAttribute("data-ww-bound", "1");
      });
    }
  }
  new MutationObserver(bind).observe(document.body, { childList: true, subtree: true });
  setInterval(bind, 250);

  document.addEventListener(
    "click",
    (event) => {
      const token = event.target.closest && event.target.closest(".ww-seq-pos");
      if (token && token.dataset.pos) send("pos", token.dataset.pos);
    },
    true,
  );
  return [];
}
