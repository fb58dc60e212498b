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
    const range = document.createRange();
    range.selectNodeContents(el);
    const sel = getSelection();
    sel.removeAllRanges();
    sel.addRange(range);
    btn.textContent = 'Selected: press Ctrl+C';
  }
  setTimeout(() => {
    btn.textContent = 'Copy';
  }, 2500);
});

// Mailbox form: show the Credentials fieldset only for profiles that authenticate with credentials per mailbox.
// <select data-auth-select> options carry data-auth; <fieldset data-auth-show="CREDENTIALS_PER_MAILBOX">.
function syncAuthFields(select) {
  const auth = select.selectedOptions[0]?.getAttribute('data-auth') ?? '';
  for (const el of select.form?.querySelectorAll('[data-auth-show]') ?? [])
    el.hidden = el.getAttribute('data-auth-show') !== auth;
}
document.querySelectorAll('select[data-auth-select]').forEach(syncAuthFields);
document.addEventListener('change', (ev) => {
  if (ev.target.matches?.('select[data-auth-select]')) syncAuthFields(ev.target);
});

// Email record: size the sandboxed message frame to its content. The frame runs no script (no allow-scripts); its
// same origin lets this page measure it. Without this file the frame keeps its CSS height and scrolls.
function fitFrame(frame) {
  const doc = frame.contentDocument;
  // The root element's own height: its scrollHeight is never less than the frame's current height.
  if (doc?.documentElement)
    frame.style.height = `${Math.ceil(doc.documentElement.getBoundingClientRect().height) + 2}px`;
}
for (const frame of document.querySelectorAll('iframe[data-fit-content]')) {
  frame.addEventListener('load', () => fitFrame(frame));
  if (frame.contentDocument?.readyState === 'complete') fitFrame(frame);
}
