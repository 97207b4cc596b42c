() => {
  // The Layers view's click bridge (as ../bridge.js and sequence.js do it): a click on a cell
  // of the heads × layers grid writes its "layer.head" into a hidden textbox and presses a
  // hidden button; Python does the rest. The head picker does the same without a pointer.
  if (window.__wwLayers) return [];
  window.__wwLayers = true;
  let last = { key: null, at: 0 };

  function send(value) {
    const box = document.querySelector("#ww-ly-click textarea, #ww-ly-click input");
    const button = document.querySelector("#ww-ly-click-btn");
    if (!box || !button) return;
    const now = Date.now();
    if (last.key === value && now - last.at < 400) return; // one click, one send
    last = { key: value, at: now };
    box.value = value + ":" + now; // the nonce makes a second click on the same head count
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => button.click(), 0);
  }

  function bind() {
    document.querySelectorAll("#ww-ly-heads .js-plotly-plot").forEach((plot) => {
      if (typeof plot.on !== "function" || !plot._ev) return;
      if (plot.__wwLayersEmitter === plot._ev) return; // already bound to this emitter
      plot.on("plotly_click", (data) => {
        const point = data && data.points && data.points[0];
        const value = point && String(point.customdata);
        if (value && /^\d+\.\d+$/.test(value)) send(value);
      });
      plot.__wwLayersEmitter = plot._ev;
      plot.setAttribute("data-ww-bound", "1");
    });
  }
  new MutationObserver(bind).observe(document.body, { childList: true, subtree: true });
  setInterval(bind, 250); // plotly may swap a plot's emitter without touching the DOM
  return [];
}
