// Live Test & Enable statuses: elements with data-live-status + data-mailbox-id hold cells marked
// data-field="incomingStatus|outgoingStatus|enabled|lastTest|retry". While any is pending, poll the JSON
// endpoint every 2 s and update them in place (no reload).
(() => {
  const rows = () => [...document.querySelectorAll('[data-live-status][data-mailbox-id]')];
  const isPending = (el) =>
    [...el.querySelectorAll('[data-field$="Status"]')].some((c) => c.textContent.trim() === 'Pending');
  let timer;
  // The mailbox record also swaps in the new step report, codes and hints, without a reload.
  async function refreshSection(el) {
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.querySelector(`[data-refresh-on-done][data-mailbox-id="${CSS.escape(el.dataset.mailboxId)}"]`);
      if (fresh) el.innerHTML = fresh.innerHTML;
    } catch {
      /* keep what is shown; a reload shows the report */
    }
  }
  async function poll() {
    const pending = rows().filter(isPending);
    if (!pending.length) return;
    try {
      const ids = pending.map((el) => el.dataset.mailboxId).join(',');
      const res = await fetch(`/mailboxes/status.json?ids=${encodeURIComponent(ids)}`, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (res.ok) {
        const { mailboxes } = await res.json();
        for (const m of mailboxes) {
          for (const el of rows().filter((r) => r.dataset.mailboxId === m.id)) {
            for (const cell of el.querySelectorAll('[data-field]')) {
              const v = m[cell.dataset.field];
              if (typeof v === 'string' && cell.textContent !== v) cell.textContent = v || '—';
            }
            if (!m.pending) {
              el.dispatchEvent(new CustomEvent('mailroom:tested', { bubbles: true, detail: m }));
              if (el.hasAttribute('data-refresh-on-done')) refreshSection(el);
            }
          }
        }
      }
    } catch {
      /* network hiccup: try again next tick */
    }
    timer = setTimeout(poll, 2000);
  }
  document.addEventListener('DOMContentLoaded', () => {
    timer = setTimeout(poll, 1000);
  });
  window.addEventListener('pagehide', () => clearTimeout(timer));
})();
