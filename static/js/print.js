// Printables (templates/programmes/print): a "Print" button, shown only when the script runs.
document.querySelectorAll("[data-print]").forEach((button) => {
  button.hidden = false;
  button.addEventListener("click", () => window.print());
});
