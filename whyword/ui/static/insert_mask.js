(text) => {
  const el = document.querySelector("#ww-text textarea, #ww-text input");
  const value = text || "";
  const start = el && el.selectionStart != null ? el.selectionStart : value.length;
  const end = el && el.selectionEnd != null ? el.selectionEnd : start;
  const before = value.slice(0, start), after = value.slice(end);
  const pad = before && !/\s$/.test(before) ? " " : "";
  return before + pad + "[MASK]" + after;
}
