// Progressive enhancements only; every page works without this file.
// Copy buttons: <button data-copy="#element-id">Copy</button>
document.addEventListener('click', async (ev) => {
  const btn = ev.target.closest('[data-copy]');
  if (!btn) return;
  const el = document.querySelector(btn.getAttribute('data-copy'));
  if (!el) return;
  const text = el.value ?? el.textContent;
  try {
    await navigator.clipboard.writeText(text.trim());
    btn.textContent = 'Copied';
  } catch {
    const range = document.createRange(); range.selectNodeContents(el);
    const sel = getSelection(); sel.removeAllRanges(); sel.addRange(range);
    btn.textContent = 'Selected: press Ctrl+C';
  }
  setTimeout(() => { btn.textContent = 'Copy'; }, 2500);
});
