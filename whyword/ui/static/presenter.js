(on) => {
  // Presenter mode: large type and results first (style.css, body.ww-presenter); the settings
  // sidebar is closed so the chart and heatmap fill a projected 1920×1080 screen.
  document.body.classList.toggle("ww-presenter", !!on);
  if (on) {
    const side = document.querySelector("#ww-sidebar");
    const toggle = side && side.querySelector("button.toggle-button");
    if (side && side.classList.contains("open") && toggle) toggle.click();
  }
  return [];
}
