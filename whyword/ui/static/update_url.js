(query) => {
  if (!query) return window.location.href;
  const next = new URLSearchParams(query);
  const theme = new URLSearchParams(window.location.search).get("__theme");
  if (theme) next.set("__theme", theme);  // gradio's own light/dark switch survives
  const url = window.location.pathname + "?" + next.toString() + window.location.hash;
  try { history.replaceState(history.state, "", url); } catch (e) {}
  return window.location.href;
}
