// The rollout page: a list of rollouts (#/) and one rollout (#/r/<id>), polled every 2 s.
// Plain script, no build step; uPlot draws the plots. Everything it shows comes from /api.
'use strict';

const POLL_MS = 2000;
const ACTIONS = ['approve', 'pause', 'resume', 'rollback', 'complete'];
const view = document.getElementById('view');
const messageBox = document.getElementById('message');
const whoInput = document.getElementById('who');
const tokenInput = document.getElementById('token');

// The token arrives once in the address (?token=…); it is kept for the tab, not in the address bar.
(function keepToken() {
  const params = new URLSearchParams(location.search);
  const token = params.get('token');
  if (token) {
    sessionStorage.setItem('rolloutToken', token);
    params.delete('token');
    const rest = params.toString();
    history.replaceState(null, '', `${location.pathname}${rest ? `?${rest}` : ''}${location.hash}`);
  }
  tokenInput.value = sessionStorage.getItem('rolloutToken') || '';
  tokenInput.addEventListener('change', () =>
    sessionStorage.setItem('rolloutToken', tokenInput.value.trim()),
  );
  whoInput.value = localStorage.getItem('rolloutWho') || '';
  whoInput.addEventListener('change', () => localStorage.setItem('rolloutWho', whoInput.value.trim()));
})();

fetch('/api/config')
  .then((r) => r.json())
  .then((c) => {
    document.getElementById('token-field').hidden = !c.tokenRequired;
  })
  .catch(() => undefined);

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat())
    if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

function showMessage(kind, text) {
  messageBox.hidden = false;
  messageBox.className = kind;
  messageBox.textContent = text;
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  return h ? `${h}h${String(m).padStart(2, '0')}m` : m ? `${m}m${String(sec).padStart(2, '0')}s` : `${sec}s`;
}
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
const pct = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(2)}%`);

// Every call carries the page's token: reads need it as much as the buttons (a status holds the plan).
async function api(path, init = {}) {
  const token = tokenInput.value.trim();
  const headers = { ...(init.headers || {}), ...(token ? { Authorization: `Bearer ${token}` } : {}) };
  const res = await fetch(`/api${path}`, { ...init, headers });
  let body = null;
  try {
    body = await res.json();
  } catch {
    body = { error: `HTTP ${res.status}` };
  }
  if (!res.ok) {
    const err = new Error([body.error, ...(body.details || [])].filter(Boolean).join('\n'));
    err.status = res.status;
    throw err;
  }
  return body;
}

// ---- the list ----

function groupsText(r) {
  if (!r.groups) return r.percent === null ? '—' : `${r.percent}%`;
  return Object.entries(r.groups)
    .map(([g, v]) => `${g} ${v.percent}%`)
    .join(', ');
}

function renderList(data) {
  const rows = data.rollouts;
  if (rows.length === 0) {
    view.replaceChildren(
      el('h1', {}, 'Rollouts'),
      el(
        'p',
        { class: 'muted' },
        'No rollouts yet. Start one with ',
        el('code', {}, 'npx rollout start plans/phase2-3.yaml --time-scale 60'),
        '.',
      ),
    );
    return;
  }
  const table = el(
    'table',
    { id: 'rollouts' },
    el(
      'tr',
      {},
      ...['rollout', 'state', 'phase', 'percent per group', 'time left', 'last verdict', 'started'].map((h) =>
        el('th', {}, h),
      ),
    ),
    rows.map((r) =>
      el(
        'tr',
        { class: 'row', 'data-id': r.id, onclick: () => (location.hash = `#/r/${encodeURIComponent(r.id)}`) },
        el('td', {}, el('a', { href: `#/r/${encodeURIComponent(r.id)}` }, r.id)),
        el(
          'td',
          {},
          el('span', { class: `badge ${r.state || ''}` }, r.state || r.workflowStatus.toLowerCase()),
        ),
        el('td', {}, r.phase || '—'),
        el('td', {}, groupsText(r)),
        el('td', {}, fmtDuration(r.windowRemainingMs)),
        el('td', {}, r.lastVerdict || '—', r.awaiting ? el('div', { class: 'muted' }, r.awaiting) : null),
        el('td', {}, fmtTime(r.startedAt)),
      ),
    ),
  );
  view.replaceChildren(el('h1', {}, 'Rollouts'), table);
}

// ---- one rollout ----

let plots = new Map(); // key → uPlot
let countdown = null;

function stepClass(s, phase, phaseIndex, stepIndex) {
  const entries = s.history.filter(
    (h) => h.phase === phase.name && h.percent === phase.steps[stepIndex].percent,
  );
  const last = entries[entries.length - 1];
  if (last && last.outcome === 'rolled-back') return 'rolled-back';
  const current =
    s.phase === phase.name &&
    s.stepIndex === stepIndex &&
    !['completed', 'rolled-back', 'failed'].includes(s.state);
  if (current) return 'current';
  if (last && last.endedAt) return 'done';
  const phaseNow = s.plan.phases.findIndex((p) => p.name === s.phase);
  if (phaseIndex < phaseNow || s.state === 'completed') return last ? 'done' : '';
  return '';
}

/** The checks a phase turns off (`checks: {p95: off}`), as `checksOff` in src/plan/checks.ts. */
function checksOff(phase) {
  const c = phase.checks;
  return !c || Array.isArray(c) ? [] : Object.keys(c).filter((k) => c[k] === 'off');
}

function blindBox(s) {
  const notes = [...(s.blind || []), ...(s.aboveTarget || [])];
  if (!notes.length) return null;
  return el(
    'div',
    { class: 'why', id: 'notices' },
    notes.map((n) => el('div', {}, `${fmtTime(n.at)} ${n.group}: ${n.kind === 'blind' ? 'cannot see — ' : n.kind === 'slower' ? 'slower — ' : 'above target, below the rollback bar: this step will hold — '}${n.reason}`)),
  );
}

function stageBars(s) {
  return s.plan.phases.map((phase, i) =>
    el(
      'div',
      { class: 'phase', 'data-phase': phase.name },
      el(
        'span',
        { class: 'name' },
        phase.name,
        el(
          'div',
          { class: 'muted' },
          `${phase.group}: ${s.groups[phase.group] ? s.groups[phase.group].percent : 0}% · ${s.groups[phase.group] ? s.groups[phase.group].state : ''}`,
        ),
        ...checksOff(phase).map((c) => el('div', { class: 'muted check-off' }, `${c} off (the plan turns it off)`)),
      ),
      phase.steps.map((step, j) =>
        el(
          'span',
          { class: `step ${stepClass(s, phase, i, j)}` },
          `${step.percent}%`,
          el('div', {}, step.observe),
        ),
      ),
    ),
  );
}

function whyBox(s, error) {
  if (error) return el('div', { class: 'why rollback' }, error);
  if (s.rollback)
    return el(
      'div',
      { class: 'why rollback', id: 'why' },
      `ROLLED BACK (${s.rollback.trigger}) ${fmtTime(s.rollback.at)}${s.rollback.by ? ` by ${s.rollback.by}` : ''}: ${s.rollback.reason}`,
      s.rollback.completedAt ? '' : '\nstill rolling back…',
    );
  if (s.awaiting)
    return el(
      'div',
      { class: 'why', id: 'why' },
      `waiting for ${s.awaiting.kind} since ${fmtTime(s.awaiting.since)}: ${s.awaiting.prompt}`,
    );
  return null;
}

function suggested(s) {
  if (s.awaiting && s.awaiting.kind === 'complete') return 'complete';
  if (s.awaiting) return 'approve';
  if (s.state === 'paused') return 'resume';
  return null;
}

async function act(id, action, noteInput, buttons) {
  const by = whoInput.value.trim();
  if (!by) {
    showMessage(
      'error',
      `${action}: enter your name in "who" first (it is recorded, and checked against the plan's approvers).`,
    );
    whoInput.focus();
    return;
  }
  localStorage.setItem('rolloutWho', by);
  const note = noteInput.value.trim();
  const body = { by };
  if (note && action === 'approve') body.comment = note;
  if (note && (action === 'pause' || action === 'rollback')) body.reason = note;
  const token = tokenInput.value.trim();
  for (const b of buttons) b.disabled = true;
  showMessage('ok', `${action}: sending…`);
  try {
    const r = await api(`/rollouts/${encodeURIComponent(id)}/${action}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    showMessage('ok', `${r.message}${r.state ? ` — now ${r.state}` : ''}`);
    noteInput.value = '';
  } catch (err) {
    showMessage('error', `${action} refused: ${err.message}`);
  } finally {
    for (const b of buttons) b.disabled = false;
    refresh();
  }
}

function actionsBar(id, s, running) {
  const note = el('input', { id: 'note', placeholder: 'comment / reason (optional)', size: 32 });
  const buttons = [];
  for (const a of ACTIONS) {
    const b = el(
      'button',
      { 'data-action': a, class: suggested(s) === a ? 'suggested' : '', disabled: !running },
      a,
    );
    b.addEventListener('click', () => act(id, a, note, buttons));
    buttons.push(b);
  }
  return el('div', { class: 'actions' }, buttons, note);
}

/** Vertical lines at the step boundaries, drawn on the plot's canvas. */
function marksPlugin(marks) {
  return {
    hooks: {
      draw: [
        (u) => {
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = '#8c959f';
          ctx.fillStyle = '#57606a';
          ctx.setLineDash([4, 4]);
          ctx.font = `${Math.round(10 * devicePixelRatio)}px sans-serif`;
          for (const m of marks) {
            const x = Math.round(u.valToPos(m.at, 'x', true));
            if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
            ctx.beginPath();
            ctx.moveTo(x, u.bbox.top);
            ctx.lineTo(x, u.bbox.top + u.bbox.height);
            ctx.stroke();
            ctx.fillText(m.label, x + 3, u.bbox.top + 12 * devicePixelRatio);
          }
          ctx.restore();
        },
      ],
    },
  };
}

function plotSpecs(g) {
  const flat = (v) => g.t.map(() => v);
  return [
    {
      key: 'error',
      title: 'error rate: domain vs legacy',
      series: [
        { label: 'domain', stroke: '#cf222e', value: (u, v) => pct(v) },
        { label: 'legacy', stroke: '#0969da', value: (u, v) => pct(v) },
        { label: 'target', stroke: '#1a7f37', dash: [6, 4], value: (u, v) => pct(v) },
        { label: 'rollback', stroke: '#9a6700', dash: [2, 4], value: (u, v) => pct(v) },
      ],
      data: [
        g.t,
        g.domainErrorRate,
        g.legacyErrorRate,
        flat(g.thresholds.errorTarget),
        flat(g.thresholds.errorRollback),
      ],
      y: (u, vals) => vals.map((v) => `${(v * 100).toFixed(1)}%`),
    },
    {
      key: 'p95',
      title: `P95 latency (ms)${g.baselineP95Ms !== null ? `, baseline ${g.baselineP95Ms.toFixed(1)} ms` : ''}`,
      series: [
        { label: 'domain', stroke: '#cf222e' },
        { label: 'legacy', stroke: '#0969da' },
        { label: 'baseline', stroke: '#57606a', dash: [6, 4] },
        { label: 'rollback above', stroke: '#9a6700', dash: [2, 4] },
      ],
      data: [g.t, g.p95DomainMs, g.p95LegacyMs, flat(g.baselineP95Ms), g.p95LimitMs],
      y: (u, vals) => vals.map((v) => `${v}`),
    },
    {
      key: 'share',
      title: 'share served by domain in the step so far, its interval, and the band',
      series: [
        { label: 'served (step so far)', stroke: '#8250df', value: (u, v) => pct(v) },
        { label: 'interval low', stroke: '#8250df', dash: [2, 3], value: (u, v) => pct(v) },
        { label: 'interval high', stroke: '#8250df', dash: [2, 3], value: (u, v) => pct(v) },
        { label: 'band low', stroke: '#1a7f37', dash: [6, 4], value: (u, v) => pct(v) },
        { label: 'band high', stroke: '#1a7f37', dash: [6, 4], value: (u, v) => pct(v) },
      ],
      data: [g.t, g.servedShare, g.shareIntervalLow, g.shareIntervalHigh, g.shareLow, g.shareHigh],
      y: (u, vals) => vals.map((v) => `${Math.round(v * 100)}%`),
    },
  ];
}

function renderPlots(container, groups) {
  const seen = new Set();
  for (const g of groups) {
    for (const spec of plotSpecs(g)) {
      const key = `${g.group}:${spec.key}`;
      seen.add(key);
      let box = container.querySelector(`[data-plot="${CSS.escape(key)}"]`);
      const fresh = !box;
      if (fresh) {
        box = el(
          'div',
          { class: 'plot', 'data-plot': key, 'data-group': g.group },
          el('h3', {}, `${g.group} · ${spec.title}`),
        );
        container.append(box);
      } else box.querySelector('h3').textContent = `${g.group} · ${spec.title}`;
      box.setAttribute('data-points', String(g.t.length));
      const existing = plots.get(key);
      if (existing && !fresh) {
        existing.marks.splice(0, existing.marks.length, ...g.steps);
        existing.plot.setData(spec.data);
        continue;
      }
      if (existing) existing.plot.destroy();
      const marks = [...g.steps];
      const plot = new uPlot(
        {
          width: 440,
          height: 220,
          plugins: [marksPlugin(marks)],
          scales: { x: { time: true } },
          series: [
            {},
            ...spec.series.map((s) => ({ spanGaps: false, width: 1.5, points: { show: false }, ...s })),
          ],
          axes: [{}, { values: spec.y, size: 56 }],
        },
        spec.data,
        box,
      );
      plots.set(key, { plot, marks });
    }
  }
  for (const [key, p] of plots)
    if (!seen.has(key)) {
      p.plot.destroy();
      plots.delete(key);
    }
}

function historyTable(s) {
  if (s.history.length === 0) return el('p', { class: 'muted' }, 'no steps yet');
  return el(
    'table',
    { id: 'history' },
    el(
      'tr',
      {},
      ...['phase', 'percent', 'started', 'ended', 'outcome', 'verdict', 'checks', 'reason'].map((h) =>
        el('th', {}, h),
      ),
    ),
    s.history.map((h) =>
      el(
        'tr',
        {},
        el('td', {}, h.phase),
        el('td', {}, `${h.percent}%`),
        el('td', {}, fmtTime(h.startedAt)),
        el('td', {}, fmtTime(h.endedAt)),
        el('td', {}, h.outcome || 'running'),
        el('td', {}, h.verdict ? el('span', { class: `badge ${h.verdict}` }, h.verdict) : '—'),
        el('td', {}, String((h.evidence || []).length)),
        el('td', {}, h.reason || (h.by ? `by ${h.by}` : '')),
      ),
    ),
  );
}

function eventsList(s) {
  return el(
    'ol',
    { class: 'events', id: 'events', reversed: true },
    s.events
      .slice()
      .reverse()
      .slice(0, 60)
      .map((e) =>
        el(
          'li',
          { class: e.accepted === false ? 'refused' : e.kind === 'warning' ? 'warning' : '' },
          `${new Date(e.at).toLocaleTimeString()} ${e.kind}${e.name ? ` ${e.name}` : ''}${e.by ? ` by ${e.by}` : ''}: ${e.message}`,
        ),
      ),
  );
}

function lastCheckBox(s) {
  const c = s.lastCheck;
  if (!c) return el('p', { class: 'muted', id: 'last-check' }, 'no check yet');
  return el(
    'div',
    { id: 'last-check' },
    el('span', { class: `badge ${c.verdict}` }, c.verdict),
    ` ${c.group} at ${new Date(c.at).toLocaleTimeString()}: `,
    c.reasons.join('; '),
  );
}

let shownId = null;

function renderRollout(id, data) {
  const s = data.status;
  const running = data.workflow.status === 'RUNNING';
  if (shownId !== id) {
    for (const p of plots.values()) p.plot.destroy();
    plots = new Map();
    shownId = id;
    view.replaceChildren(
      el('p', {}, el('a', { href: '#/' }, '← all rollouts')),
      el('h1', { id: 'title' }),
      el('div', { id: 'summary' }),
      el('div', { id: 'actions-slot' }),
      el('h2', {}, 'Plots'),
      el('div', { class: 'plots', id: 'plots' }),
      el('h2', {}, 'Steps'),
      el('div', { id: 'history-slot' }),
      el('h2', {}, 'Events'),
      el('div', { id: 'events-slot' }),
    );
  }
  const state = s ? s.state : 'failed';
  document
    .getElementById('title')
    .replaceChildren(id, el('span', { class: `badge ${state}`, id: 'state' }, state));
  if (!s) {
    document.getElementById('summary').replaceChildren(whyBox(null, data.error));
    return;
  }
  const left = el('b', { id: 'countdown' }, fmtDuration(s.windowRemainingMs));
  if (countdown) clearInterval(countdown);
  if (s.windowRemainingMs !== null && ['observing', 'monitoring'].includes(s.state)) {
    const until = Date.now() + s.windowRemainingMs;
    countdown = setInterval(() => (left.textContent = fmtDuration(until - Date.now())), 1000);
  }
  document
    .getElementById('summary')
    .replaceChildren(
      el(
        'div',
        { class: 'facts' },
        el('div', {}, el('span', {}, 'target'), el('b', {}, s.plan.target.id)),
        el('div', {}, el('span', {}, 'phase'), el('b', {}, s.phase || '—')),
        el('div', {}, el('span', {}, 'percent'), el('b', { id: 'percent' }, `${s.percent}%`)),
        el('div', {}, el('span', {}, 'window left'), left),
        el(
          'div',
          {},
          el('span', {}, 'approvers'),
          el('b', {}, s.plan.approvers ? s.plan.approvers.join(', ') : 'anyone'),
        ),
      ),
      ...[whyBox(s, null), blindBox(s)].filter(Boolean),
      ...stageBars(s),
      el('h2', {}, 'Last check'),
      lastCheckBox(s),
    );
  const slot = document.getElementById('actions-slot');
  if (!slot.firstChild) slot.append(actionsBar(id, s, running));
  for (const b of slot.querySelectorAll('button')) {
    b.disabled = !running;
    b.className = suggested(s) === b.dataset.action ? 'suggested' : '';
  }
  renderPlots(document.getElementById('plots'), data.plots);
  document.getElementById('history-slot').replaceChildren(historyTable(s));
  document.getElementById('events-slot').replaceChildren(eventsList(s));
}

// ---- routing and polling ----

let timer = null;
let generation = 0;

async function refresh() {
  const mine = ++generation;
  const m = /^#\/r\/(.+)$/.exec(location.hash);
  try {
    if (m) {
      const id = decodeURIComponent(m[1]);
      const data = await api(`/rollouts/${encodeURIComponent(id)}`);
      if (mine === generation) renderRollout(id, data);
    } else {
      shownId = null;
      const data = await api('/rollouts');
      if (mine === generation) renderList(data);
    }
    document.body.dataset.loaded = 'true';
  } catch (err) {
    if (mine !== generation) return;
    shownId = null;
    view.replaceChildren(
      el('div', { class: 'why rollback', id: 'load-error' }, err.message),
      el('p', {}, el('a', { href: '#/' }, '← all rollouts')),
    );
    document.body.dataset.loaded = 'true';
  }
}

function schedule() {
  if (timer) clearTimeout(timer);
  timer = setTimeout(async () => {
    await refresh();
    schedule();
  }, POLL_MS);
}

window.addEventListener('hashchange', () => {
  messageBox.hidden = true;
  refresh().then(schedule);
});
// A token typed in shows what it opens at once.
tokenInput.addEventListener('change', () => refresh());
refresh().then(schedule);
