() => {

  // On a phone the settings sidebar would cover the whole page: start with it closed. With
  // ?presenter=1 the page starts in presenter mode (large type, sidebar closed). The sidebar
  // mounts after this script runs, so both are retried for a few seconds.
  const presenting = new URLSearchParams(window.location.search).get("presenter") === "1";
  if (presenting) document.body.classList.add("ww-presenter");
  if (window.innerWidth <= 768 || presenting) {
    let tries = 0;
    const closer = setInterval(() => {
      const side = document.querySelector("#ww-sidebar");
      const toggle = side && side.querySelector("button.toggle-button");
      if (side && toggle && side.classList.contains("open")) toggle.click();
      if ((side && !side.classList.contains("open")) || ++tries > 50) clearInterval(closer);
    }, 100);
  }
  // WhyWord's page script, run once when the page loads (gradio's launch(js=...)).
  // gr.Plot has no click event, so a click on a plotly bar writes the bar's token id
  // (its customdata) into a hidden textbox and presses a hidden button; Python retargets.
  // Plotly re-creates its event emitter when gradio re-renders the chart, so binding is
  // re-checked whenever the DOM changes.
  const CLICK_BOX = "#ww-click textarea, #ww-click input";
  const CLICK_BUTTON = "#ww-click-btn";
  const PLOTS = "#ww-topk .js-plotly-plot, #ww-ev-topk .js-plotly-plot";
  // The Evidence view's marginal chart has its own hidden textbox and button.
  const EVIDENCE = ["#ww-ev-click textarea, #ww-ev-click input", "#ww-ev-click-btn"];

  let last = { id: null, at: 0 };

  function send(tokenId, plot) {
    const evidence = plot && plot.closest && plot.closest("#ww-ev-topk");
    const box = document.querySelector(evidence ? EVIDENCE[0] : CLICK_BOX);
    const button = document.querySelector(evidence ? EVIDENCE[1] : CLICK_BUTTON);
    if (!box || !button) return;
    const now = Date.now(); // a click on a bar reaches both plotly and the row handler below
    if (last.id === tokenId && now - last.at < 400) return;
    last = { id: tokenId, at: now };
    box.value = tokenId + ":" + Date.now(); // the nonce makes a second click on a bar count
    box.dispatchEvent(new Event("input", { bubbles: true }));
    setTimeout(() => button.click(), 0);
  }

  function onClick(data, plot) {
    const point = data && data.points && data.points[0];
    if (!point) return;
    let id = point.customdata;
    if (Array.isArray(id)) id = id[0];
    if (id === undefined || id === null || !/^\d+$/.test(String(id))) return;
    send(String(id), plot);
  }

  // A click anywhere on a bar's row (its label, its "1.2 %" text, the empty space beside a
  // 2 px bar) counts as a click on that bar: the row is found from the y-axis labels.
  function onRowClick(event) {
    const plot = event.target.closest && event.target.closest(PLOTS);
    if (!plot || !plot.data || !plot.data[0] || !plot.data[0].customdata) return;
    const ids = plot.data[0].customdata;
    let best = null;
    plot.querySelectorAll(".ytick").forEach((tick) => {
      const position = tick.__data__ && tick.__data__.x;
      const box = tick.getBoundingClientRect();
      const distance = Math.abs(event.clientY - (box.top + box.height / 2));
      if (position === undefined || !(position in ids)) return;
      if (best === null || distance < best.distance) best = { position, distance, box };
    });
    if (!best || best.distance > Math.max(12, best.box.height)) return;
    send(String(ids[best.position]), plot);
  }

  document.addEventListener("click", onRowClick, true);

  function bind() {
    document.querySelectorAll(PLOTS).forEach((plot) => {
      if (typeof plot.on !== "function" || !plot._ev) return;
      if (plot.__wwEmitter === plot._ev) return; // already bound to this emitter
      plot.on("plotly_click", (data) => onClick(data, plot));
      plot.__wwEmitter = plot._ev;
      plot.setAttribute("data-ww-bound", "1");
    });
  }

  new MutationObserver(bind).observe(document.body, { childList: true, subtree: true });
  setInterval(bind, 250);
  bind();
}
