// A running CSV import: polls its status and moves the progress bar; reloads the page for the summary when it ends.
// Without this file the page says to reload.
for (const box of document.querySelectorAll('[data-import-progress]')) {
  const url = box.getAttribute('data-import-progress');
  const bar = box.querySelector('progress');
  const done = box.querySelector('[data-field="done"]');
  const tick = async () => {
    try {
      const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin' });
      if (res.ok) {
        const s = await res.json();
        bar.value = s.done;
        bar.textContent = `${s.done} of ${s.toImport}`;
        done.textContent = String(s.done);
        if (s.status === 'DONE') return location.reload();
      }
    } catch {
      // a blip (server restarting): try again at the next tick
    }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 500);
}
