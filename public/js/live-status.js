// Live Test & Enable statuses: elements with data-live-status + data-mailbox-id (+ data-pending, data-version) hold
// cells marked data-field="incomingStatus|outgoingStatus|enabled|lastTest|retry". While any is pending, poll the JSON
// endpoint every 2 s and update them in place, badge colours included (no reload). A section with data-refresh (the
// mailbox record) is reloaded from the server whenever the mailbox's version changes (a retry, the result). Relative
// times (<time data-relative datetime>) tick every second; flashes marked data-until="tested:<id>" go when that
// mailbox's result arrives.
(() => {
  const rows = () => [...document.querySelectorAll('[data-live-status][data-mailbox-id]')];
  const isPending = (el) => el.dataset.pending === 'true';
  const badgeClass = (code) => `badge badge-${code === 'NOT_RUN' ? 'none' : code.toLowerCase()}`;
  let timer;

  /** That mailbox's result arrived: the "queued" messages waiting for it are obsolete. */
  function resultArrived(id) {
    for (const f of document.querySelectorAll(`[data-until="tested:${CSS.escape(id)}"]`)) f.remove();
  }

  /** The same words as relative() in src/mailboxes/labels.ts. */
  function relative(ms) {
    const s = Math.round(ms / 1000);
    const a = Math.abs(s);
    if (a < 1) return 'now';
    const n =
      a < 60
        ? `${a} s`
        : a < 3600
          ? `${Math.round(a / 60)} min`
          : a < 86400
            ? `${Math.round(a / 3600)} h`
            : `${Math.round(a / 86400)} d`;
    return s > 0 ? `in ${n}` : `${n} ago`;
  }
  function tick() {
    for (const t of document.querySelectorAll('time[data-relative][datetime]')) {
      const text = relative(Date.parse(t.getAttribute('datetime')) - Date.now());
      if (t.textContent !== text) t.textContent = text;
    }
  }

  // The mailbox record swaps in the new panel (attempt, last failure, step report) without a reload.
  async function refreshSection(el) {
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.querySelector(`[data-refresh][data-mailbox-id="${CSS.escape(el.dataset.mailboxId)}"]`);
      if (!fresh) return;
      el.innerHTML = fresh.innerHTML;
      el.dataset.pending = fresh.dataset.pending;
      el.dataset.version = fresh.dataset.version;
      // The section may come back with the result itself (the run ended while it was fetched); polling then stops
      // for it, so this is the last chance to drop the "queued" message.
      if (!isPending(el)) resultArrived(el.dataset.mailboxId);
      tick();
    } catch {
      /* keep what is shown; a reload shows the report */
    }
  }

  function apply(el, m) {
    for (const cell of el.querySelectorAll('[data-field]')) {
      const field = cell.dataset.field;
      const v = m[field];
      if (typeof v === 'string' && cell.textContent !== (v || '—')) cell.textContent = v || '—';
      const code = m[`${field}Code`];
      if (typeof code === 'string' && cell.classList.contains('badge')) cell.className = badgeClass(code);
    }
    const changed = el.dataset.version !== m.version;
    el.dataset.pending = String(m.pending);
    if (changed && el.hasAttribute('data-refresh')) refreshSection(el);
    else el.dataset.version = m.version;
    if (!m.pending) {
      resultArrived(m.id);
      el.dispatchEvent(new CustomEvent('mailroom:tested', { bubbles: true, detail: m }));
    }
  }

  async function poll() {
    const pending = rows().filter(isPending);
    if (!pending.length) return;
    try {
      const ids = [...new Set(pending.map((el) => el.dataset.mailboxId))].join(',');
      const res = await fetch(`/mailboxes/status.json?ids=${encodeURIComponent(ids)}`, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (res.ok) {
        const { mailboxes } = await res.json();
        for (const m of mailboxes) for (const el of rows().filter((r) => r.dataset.mailboxId === m.id)) apply(el, m);
      }
    } catch {
      /* network hiccup: try again next tick */
    }
    timer = setTimeout(poll, 2000);
  }
  document.addEventListener('DOMContentLoaded', () => {
    // A result that arrived before the page did makes its "queued" message obsolete at once.
    for (const el of rows().filter((r) => !isPending(r))) resultArrived(el.dataset.mailboxId);
    timer = setTimeout(poll, 1000);
    setInterval(tick, 1000);
  });
  window.addEventListener('pagehide', () => clearTimeout(timer));
})();
