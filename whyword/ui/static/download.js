() => {
  // A download button wrote its file into the hidden DownloadButton: press it (once the new
  // value has reached the page).
  setTimeout(() => {
    const button = document.querySelector("#ww-download button, button#ww-download");
    if (button) button.click();
  }, 80);
}
