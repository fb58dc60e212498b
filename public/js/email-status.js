// Live statuses of outgoing emails: elements with data-email-live + data-email-id (+ data-pending, data-version) are
// polled every 2 s through /emails/status.json while any is pending (Pending Send, Sending). A list cell gets its badge
// updated in place; a section with data-refresh (the email record) is swapped for the server's fresh copy whenever
// the email's version changes (a retry, Sent, Failed), so the error, hint and server response appear without a reload.
(() => {
  const live = () => [...document.querySelectorAll('[data-email-live][data-email-id]')];
  let timer;

  async function refresh(el) {
    try {
      const res = await fetch(location.href, { headers: { accept: 'text/html' }, credentials: 'same-origin' });
      if (!res.ok) return;
      const doc = new DOMParser().parseFromString(await res.text(), 'text/html');
      const fresh = doc.querySelector(
        `[data-email-live][data-refresh][data-email-id="${CSS.escape(el.dataset.emailId)}"]`,
      );
      if (fresh) el.replaceWith(document.importNode(fresh, true));
      // The record's buttons may change with the status (Reply): take the title bar too.
      const bar = doc.querySelector('.titlebar');
      const here = document.querySelector('.titlebar');
      if (bar && here) here.replaceWith(document.importNode(bar, true));
    } catch {
      /* keep what is shown; a reload shows the result */
    }
  }

  async function apply(el, m) {
    if (el.hasAttribute('data-refresh')) {
      if (el.dataset.version !== m.version) await refresh(el);
      return;
    }
    const badge = el.querySelector('.badge');
    if (badge && badge.textContent !== m.status) {
      badge.textContent = m.status;
      badge.className = `badge badge-${m.tone}`;
    }
    el.dataset.pending = String(m.pending);
  }

  async function poll() {
    const pending = live().filter((el) => el.dataset.pending === 'true');
    if (!pending.length) return;
    try {
      const ids = [...new Set(pending.map((el) => el.dataset.emailId))].slice(0, 200).join(',');
      const res = await fetch(`/emails/status.json?ids=${encodeURIComponent(ids)}`, {
        headers: { accept: 'application/json' },
        credentials: 'same-origin',
      });
      if (res.ok) {
        const { emails } = await res.json();
        for (const m of emails) for (const el of live().filter((e) => e.dataset.emailId === m.id)) await apply(el, m);
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
