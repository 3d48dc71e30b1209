// beforeafter review, the list: the undo of "Keep private" and of "Don't publish this photo",
// each a decision like the case page's (token in a header), then the case run again.
(() => {
  'use strict';
  const token = new URLSearchParams(location.search).get('t') || '';
  document.querySelectorAll('button[data-undo]').forEach((b) => b.addEventListener('click', async () => {
    const row = b.closest('li');
    const answerEl = row.querySelector('.answer');
    answerEl.textContent = 'Saving, then running the case again…';
    b.disabled = true;
    const body = { case: b.dataset.case, stamp: b.dataset.stamp, file: b.dataset.file || null };
    let answer;
    try {
      const res = await fetch('/api/' + b.dataset.undo, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-Review-Token': token },
        body: JSON.stringify(body),
      });
      answer = await res.json().catch(() => ({ error: 'unreadable answer' }));
      if (!res.ok) {
        answerEl.textContent = answer.error || 'Refused (' + res.status + ')';
        b.disabled = false;
        if (res.status === 409) setTimeout(() => location.reload(), 1500);
        return;
      }
    } catch (e) {
      answerEl.textContent = 'The app did not answer: is beforeafter review still running?';
      b.disabled = false;
      return;
    }
    // Other undo buttons of this case now need case.toml's new stamp.
    document.querySelectorAll('button[data-undo]').forEach((o) => {
      if (o.dataset.case === b.dataset.case) o.dataset.stamp = answer.stamp;
    });
    const why = answer.reasons && answer.reasons.length ? ' Why: ' + answer.reasons.join('; ') : '';
    answerEl.textContent = answer.message + why;
    b.hidden = true;
    document.body.dataset.outcome = answer.outcome;
  }));
})();
