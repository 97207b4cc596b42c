(link) => {
  const url = link || window.location.href;
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(url).catch(() => {});
  }
  const button = document.querySelector("#ww-copy");
  if (button) {
    const label = button.textContent;
    button.textContent = "Copied ✓";
    setTimeout(() => { button.textContent = label; }, 1500);
  }
  return url;
}
