// beforeafter clinic settings: fill the form from the settings file, show the watermark as the
// server's own watermark code draws it on one of the clinic's photos (after each change, a
// moment after typing stops), upload a logo, save. No outside requests.
(() => {
  'use strict';
  const data = JSON.parse(document.getElementById('settings-data').textContent);
  const $ = (id) => document.getElementById(id);
  const keys = Object.keys(data.values);
  const answer = $('settings-answer');
  const say = (text, refused) => {
    answer.textContent = text;
    answer.className = refused ? 'refused' : '';
  };

  for (const k of keys) {
    const el = $(k);
    if (el.type === 'checkbox') el.checked = data.values[k] === 'true';
    else el.value = data.values[k];
  }
  const logoNow = () => {
    const logo = $('gallery.logo').value;
    $('logo-now').textContent = logo ? 'A logo is set.' : 'No logo.';
    $('logo-remove').hidden = !logo;
  };
  logoNow();

  function values() {
    const out = {};
    for (const k of keys) {
      const el = $(k);
      out[k] = el.type === 'checkbox' ? String(el.checked) : el.value;
    }
    return out;
  }

  // The preview: the server marks the photo with the settings as typed; a refusal is said.
  let timer = 0;
  function preview() {
    $('opacity-shown').textContent = Math.round($('watermark.opacity').value * 100) + '%';
    if (!data.photo) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const q = new URLSearchParams(values());
      q.set('t', data.token);
      $('mark-preview').src = '/settings/preview?' + q.toString();
    }, 250);
  }
  $('mark-preview').addEventListener('error', async () => {
    const res = await fetch($('mark-preview').src).catch(() => null);
    say(res ? (await res.text()).trim() : 'The app did not answer: is it still running?', true);
  });
  $('mark-preview').addEventListener('load', () => {
    document.body.dataset.previews = String(Number(document.body.dataset.previews || 0) + 1);
    if (answer.className === 'refused') say('', false);
  });
  $('settings').addEventListener('input', preview);
  $('settings').addEventListener('change', preview);
  $('settings').addEventListener('submit', (ev) => ev.preventDefault());

  async function send(path, body, type) {
    try {
      const res = await fetch(path, {
        method: 'POST',
        headers: { 'Content-Type': type, 'X-Review-Token': data.token },
        body,
      });
      const json = await res.json().catch(() => ({ error: 'unreadable answer' }));
      return { status: res.status, json };
    } catch (e) {
      return { status: 0, json: { error: 'The app did not answer: is it still running?' } };
    }
  }

  $('logo-file').addEventListener('change', async () => {
    const file = $('logo-file').files[0];
    if (!file) return;
    say('Sending the logo…', false);
    const { status, json } = await send('/api/settings/logo', file, 'application/octet-stream');
    if (status !== 200) return say(json.error || 'Refused (' + status + ')', true);
    $('gallery.logo').value = json.logo;
    logoNow();
    say('Logo ready: save the settings to use it.', false);
  });
  $('logo-remove').addEventListener('click', () => {
    $('gallery.logo').value = '';
    logoNow();
    say('Save the settings to remove the logo.', false);
  });

  $('save-settings').addEventListener('click', async () => {
    say('Saving…', false);
    const body = JSON.stringify({ stamp: data.stamp, values: values() });
    const { status, json } = await send('/api/settings', body, 'application/json');
    if (status === 409) {
      say(json.error + ' Reloading…', true);
      setTimeout(() => location.reload(), 1500);
      return;
    }
    if (status !== 200) {
      say(json.error || 'Refused (' + status + ')', true);
      document.body.dataset.refused = String(Number(document.body.dataset.refused || 0) + 1);
      return;
    }
    data.stamp = json.stamp;
    say(json.message, false);
    document.body.dataset.saved = String(Number(document.body.dataset.saved || 0) + 1);
  });
  preview();
})();
