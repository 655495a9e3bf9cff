// The Cordon dashboard: plain DOM, no framework, no build. Everything the API returns is shown with
// textContent (never innerHTML): agents, tools and payloads are untrusted text.
const API = '/api/v1';
const main = document.getElementById('main');
let me = null;
let view = { name: null, onEvent: () => {} };

async function api(path, options = {}) {
  const headers = { Accept: 'application/json' };
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  if (options.method && options.method !== 'GET' && me?.csrfToken) headers['X-CSRF-Token'] = me.csrfToken;
  const response = await fetch(API + path, {
    method: options.method || 'GET',
    headers,
    credentials: 'same-origin',
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

// A file for a web chat message: its raw bytes, with the same CSRF rule as every other change.
async function upload(agent, file) {
  const response = await fetch(`${API}/agents/${encodeURIComponent(agent)}/files?name=${encodeURIComponent(file.name)}`, {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': file.type || 'application/octet-stream', 'X-CSRF-Token': me?.csrfToken ?? '' },
    credentials: 'same-origin',
    body: file,
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function table(headers, rows) {
  return el('table', {}, el('tr', {}, ...headers.map((h) => el('th', { text: h }))),
    ...rows.map((cells) => el('tr', {}, ...cells.map((c) => (c instanceof Node ? el('td', {}, c) : el('td', { text: String(c ?? '') }))))));
}

function show(title, ...nodes) {
  main.replaceChildren(el('h1', { text: title }), ...nodes);
}

// A page renders only if it is still the one shown: a slow answer must not replace a newer page.
function stillShown(mine) {
  return view === mine;
}

function failed(error) {
  main.append(el('p', { class: 'error', text: error.message }));
}

// ---- pages

async function overview() {
  const mine = view;
  const [agents, approvals, sessions] = await Promise.all([api('/agents'), api('/approvals'), api('/sessions')]);
  const nodes = [
    el('h2', { text: 'Agents' }),
    table(['agent', 'sessions', 'policy', ''], agents.agents.map((a) => [
      el('a', { href: `#/agents/${a.name}`, text: a.name }),
      `${a.liveSessions} live / ${a.sessions}`, a.policy,
      el('a', { href: `#/chat/${a.name}`, text: 'chat' })])),
    el('p', {}, el('a', { href: '#/approvals', text: `${approvals.approvals.length} approval(s) pending` })),
    el('h2', { text: 'Sessions' }),
    !sessions.sessions.some((s) => s.replica)
      ? table(['session', 'agent', 'chat', 'state'], sessions.sessions.map((s) => [
        el('a', { href: `#/sessions/${s.session}`, text: String(s.session) }), s.agent, s.chat, s.state]))
      : table(['session', 'agent', 'chat', 'state', 'replica', 'heartbeat'], sessions.sessions.map((s) => [
        el('a', { href: `#/sessions/${s.session}`, text: String(s.session) }), s.agent, s.chat, s.state,
        s.replica || '-', s.heartbeatAgeMillis < 0 ? '-' : `${(s.heartbeatAgeMillis / 1000).toFixed(1)} s ago`])),
  ];
  if (sessions.replicas.length > 0) {
    nodes.push(el('h2', { text: 'Replicas' }),
      table(['replica', 'started', 'heartbeat', 'channels', 'sessions'], sessions.replicas.map((r) => [
        r.self ? `${r.name} (this one)` : r.name, new Date(r.startedAtMillis).toISOString(),
        `${(r.heartbeatAgeMillis / 1000).toFixed(1)} s ago`, r.channels.join(', ') || '-', String(r.sessions)])));
  }
  if (me.globalAdmin) {
    const denials = await api('/audit?decision=deny&limit=10');
    const usage = await api('/usage?days=1');
    nodes.push(el('h2', { text: "Today's spend" }),
      table(['agent', 'calls', 'tokens in/out', 'cost (USD)', 'daily budget (USD)'], usage.usage.map((u) => [u.agent, u.calls, `${u.inputTokens}/${u.outputTokens}`, u.costUsd.toFixed(4),
        u.dailyBudgetUsd == null ? 'none' : `${u.dailyBudgetUsd.toFixed(2)} (${Math.round(100 * u.costUsd / u.dailyBudgetUsd)} % spent)`])),
      el('h2', { text: 'Recent denials' }),
      table(['time', 'action', 'agent', 'reason'], denials.entries.map((e) => [e.time, e.action, e.agent, e.reason])));
  }
  if (!stillShown(mine)) return;
  show('Overview', ...nodes);
  view.onEvent = (type) => { if (type === 'audit') schedule(overview); };
}

async function agentPage(name) {
  const mine = view;
  const path = `/agents/${encodeURIComponent(name)}`;
  const a = await api(path);
  const admin = a.policyExplain !== null;
  const [tasks, usage] = admin
    ? await Promise.all([api(`${path}/tasks`), api(`/usage?days=30&agent=${encodeURIComponent(name)}`)])
    : [null, null];
  if (!stillShown(mine)) return;
  show(`Agent ${name}`,
    el('p', { text: `role: ${a.role} · sessions: ${a.agent.liveSessions} live / ${a.agent.sessions} · policy: ${a.agent.policy}` }),
    el('p', {}, el('a', { href: `#/chat/${name}`, text: `Chat with ${name}` }), ' · ',
      el('a', { href: `#/egress/${name}`, text: 'Egress' })),
    el('h2', { text: 'Sessions' }),
    table(['session', 'chat', 'state'], a.sessions.map((s) => [
      el('a', { href: `#/sessions/${s.session}`, text: String(s.session) }), s.chat, s.state])),
    el('h2', { text: 'Instructions (AGENTS.md)' }),
    fileEditor(name, 'instructions', a.instructions, a.editable.instructions),
    el('h2', { text: 'Memory (workspace/MEMORY.md)' }),
    fileEditor(name, 'memory', a.memory, a.editable.memory),
    el('h2', { text: 'Scheduled tasks' }),
    tasks ? tasksTable(tasks.tasks, () => agentPage(name)) : el('p', { text: 'shown to admins of this agent' }),
    el('h2', { text: 'Usage, last 30 days (UTC)' }),
    usage ? usageCharts(usage.usage, 30) : el('p', { text: 'shown to admins of this agent' }),
    el('h2', { text: 'Effective policy (policy explain)' }),
    el('pre', { id: 'policy', text: a.policyExplain ?? 'shown to admins of this agent' }));
}

// A file as text for members; a text area with a Save button for admins (the server checks again).
function fileEditor(agent, field, text, editable) {
  if (!editable) return el('pre', { id: field, text: text ?? '(none)' });
  const area = el('textarea', { id: field, name: field, rows: '12' });
  area.value = text ?? '';
  const status = el('span', { class: 'status', id: `${field}-status` });
  const save = el('button', { type: 'button', id: `save-${field}`, text: 'Save', onclick: async () => {
    status.className = 'status';
    try {
      const r = await api(`/agents/${encodeURIComponent(agent)}/${field}`, { method: 'PUT', body: { text: area.value } });
      status.textContent = r.message;
      status.classList.add('ok');
    } catch (e) {
      status.textContent = e.message;
      status.classList.add('deny');
    }
  } });
  return el('div', { class: 'editor' }, area, el('div', {}, save, status));
}

function tasksTable(tasks, reload) {
  if (tasks.length === 0) return el('p', { text: 'No tasks.' });
  return table(['task', 'schedule', 'zone', 'next run', 'state', 'prompt', ''], tasks.map((t) => {
    const state = t.state === 'active' && t.paused ? 'paused' : t.state;
    const action = state === 'active' ? 'pause' : state === 'paused' ? 'resume' : null;
    const button = action ? el('button', { type: 'button', 'data-task': String(t.id), 'data-action': action,
      text: action === 'pause' ? 'Pause' : 'Resume', onclick: async () => {
        try { await api(`/tasks/${t.id}/${action}`, { method: 'POST', body: {} }); reload().catch(failed); } catch (e) { failed(e); }
      } }) : '';
    return [String(t.id), t.schedule, t.zone, t.nextRunMillis < 0 ? '—' : new Date(t.nextRunMillis).toISOString(), state, t.prompt, button];
  }));
}

// ---- the usage chart: an SVG drawn here, with no library and no inline style (CSP)

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function usageCharts(rows, days) {
  const dates = [];
  const today = new Date();
  for (let i = days - 1; i >= 0; i--) {
    dates.push(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - i)).toISOString().slice(0, 10));
  }
  const byDay = Object.fromEntries(rows.map((r) => [r.day, r]));
  const tokens = dates.map((d) => (byDay[d] ? byDay[d].inputTokens + byDay[d].outputTokens : 0));
  const cost = dates.map((d) => (byDay[d] ? byDay[d].costUsd : 0));
  return el('div', { class: 'charts' },
    barChart('usage-tokens', 'tokens per day', dates, tokens, (v) => String(v)),
    barChart('usage-cost', 'cost per day (USD)', dates, cost, (v) => v.toFixed(4)));
}

function barChart(id, title, dates, values, format) {
  const width = 600; const height = 160; const top = 20; const bottom = 20; const left = 4;
  const max = Math.max(...values, 0);
  const step = (width - left) / values.length;
  const chart = svg('svg', { id, class: 'chart', viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': title });
  chart.append(svg('text', { x: left, y: 14, class: 'chart-title' }, `${title} · max ${format(max)} · total ${format(values.reduce((x, y) => x + y, 0))}`));
  values.forEach((v, i) => {
    const h = max > 0 ? Math.round((v / max) * (height - top - bottom)) : 0;
    const bar = svg('rect', { x: left + i * step + 1, y: height - bottom - h, width: Math.max(step - 2, 1), height: h, class: 'bar', 'data-day': dates[i], 'data-value': v });
    bar.append(svg('title', {}, `${dates[i]}: ${format(v)}`));
    chart.append(bar);
  });
  chart.append(svg('line', { x1: left, y1: height - bottom, x2: width, y2: height - bottom, class: 'axis' }));
  chart.append(svg('text', { x: left, y: height - 4, class: 'chart-label' }, dates[0]));
  chart.append(svg('text', { x: width - 70, y: height - 4, class: 'chart-label' }, dates[dates.length - 1]));
  return chart;
}

// ---- egress: what each agent's sandbox reached or was refused, and "propose rule"

async function egressPage(only) {
  const mine = view;
  const { agents } = await api('/agents');
  const names = agents.map((a) => a.name)
    .filter((n) => (only ? n === only : me.globalAdmin || ['owner', 'admin'].includes(me.roles[n])));
  const all = await Promise.all(names.map((n) => api(`/agents/${encodeURIComponent(n)}/egress?limit=100`)));
  if (!stillShown(mine)) return;
  const nodes = all.length === 0 ? [el('p', { text: 'You administer no agent.' })] : [];
  for (const e of all) {
    nodes.push(el('section', { class: 'egress', 'data-agent': e.agent },
      el('h2', { text: `Agent ${e.agent}` }),
      el('h3', { text: 'Hosts' }),
      e.hosts.length === 0 ? el('p', { text: 'No egress yet.' })
        : table(['host', 'allowed', 'denied', 'last'], e.hosts.map((h) => [`${h.host}:${h.port}`, h.allowed, h.denied, `${h.last} (${h.lastDecision})`])),
      el('h3', { text: 'Rules approved by a person (always)' }),
      e.grants.length === 0 ? el('p', { text: 'None.' })
        : table(['approval', 'host', 'approved by'], e.grants.map((g) => [`#${g.approval}`, `${g.host}:${g.port}`, g.decidedBy])),
      el('h3', { text: 'Requests, newest first' }),
      table(['seq', 'time', 'decision', 'request', 'rule / reason', ''], e.decisions.map((d) => [
        d.seq, d.time, el('span', { class: d.decision, text: d.decision }),
        `${d.method} ${d.host}:${d.port}${d.path ?? ''}`, d.rule ? `${d.rule}: ${d.reason ?? ''}` : d.reason,
        d.proposable || proposed.has(`${e.agent}/${d.seq}`) ? proposeButton(e.agent, d) : '']))));
  }
  show(only ? `Egress of ${only}` : 'Egress', ...nodes);
  view.onEvent = (type, data) => { if (type === 'audit' && data.action.startsWith('egress.')) schedule(() => egressPage(only)); };
}

// What proposing a denied request answered, by agent and audit seq: the page is drawn again on
// every egress audit entry (the proposal's own among them) and must keep showing the answer.
const proposed = new Map();

function proposeButton(agent, d) {
  const key = `${agent}/${d.seq}`;
  const answer = (r) => el('a', { href: '#/approvals', class: 'proposed', text: r.message });
  const box = el('span', {});
  if (proposed.has(key)) {
    box.append(answer(proposed.get(key)));
    return box;
  }
  box.append(el('button', { type: 'button', 'data-propose': String(d.seq), text: 'Propose rule', onclick: async () => {
    try {
      const r = await api(`/agents/${encodeURIComponent(agent)}/egress/proposals`, { method: 'POST', body: { seq: d.seq } });
      proposed.set(key, r);
      box.replaceChildren(answer(r));
    } catch (e) { box.replaceChildren(el('span', { class: 'deny', text: e.message })); }
  } }));
  return box;
}

async function sessionPage(id) {
  const mine = view;
  const [t, sessions] = await Promise.all([api(`/sessions/${id}/transcript`), api('/sessions')]);
  const row = sessions.sessions.find((s) => String(s.session) === String(id));
  const stop = el('button', { type: 'button', id: 'stop-session', text: 'Stop sandbox', onclick: async () => {
    try { await api(`/sessions/${id}/stop`, { method: 'POST', body: {} }); route(); } catch (e) { failed(e); }
  } });
  if (!row || (row.state !== 'busy' && row.state !== 'idle')) stop.disabled = true;
  if (!stillShown(mine)) return;
  show(`Session ${id}`, el('p', { text: row ? `${row.agent} · ${row.chat} · ${row.state}` : '' }), stop,
    el('div', { id: 'transcript' }, ...t.messages.map(messageNode)));
  view.onEvent = (type, data) => {
    if (type === 'audit' && String(data.session) === String(id)) schedule(() => sessionPage(id));
  };
}

function fileLink(f) {
  return el('div', {}, el('a', { class: 'file', href: f.url, download: f.name, text: `${f.name} (${f.size} bytes)` }));
}

function messageNode(m) {
  const box = el('div', { class: `msg ${m.role}` }, el('strong', { text: `${m.role}: ` }), el('span', { text: m.text }));
  for (const t of m.tools) {
    box.append(el('div', { class: 'msg tool', text: t.tool ? `tool ${t.tool} ${t.input}` : `result${t.isError ? ' (error)' : ''}: ${t.result}` }));
  }
  return box;
}

async function approvalsPage() {
  const mine = view;
  const { approvals } = await api('/approvals');
  if (!stillShown(mine)) return;
  show('Approvals', approvals.length === 0 ? el('p', { text: 'Nothing is waiting for you.' }) : '',
    ...approvals.map((a) => el('div', { class: 'card', 'data-approval': String(a.id) },
      el('h3', { text: `#${a.id} ${a.kind} — agent ${a.agent}` }),
      el('p', { text: a.summary }),
      el('p', { text: `asked in ${a.chat}, session ${a.session}; expires ${new Date(a.expiresAt).toISOString()}` }),
      el('pre', { text: JSON.stringify(a.payload, null, 2) }),
      ...['once', 'session', 'always', 'deny'].map((decision) => el('button', {
        type: 'button', 'data-decision': decision, text: decision === 'deny' ? 'Deny' : `Approve ${decision}`,
        onclick: async () => {
          try { await api(`/approvals/${a.id}/decision`, { method: 'POST', body: { decision } }); approvalsPage(); } catch (e) { failed(e); }
        } })))));
  view.onEvent = (type, data) => { if (type === 'audit' && data.action.startsWith('approval.')) schedule(approvalsPage); };
}

async function auditPage() {
  const mine = view;
  const params = new URLSearchParams(location.hash.split('?')[1] || '');
  const query = new URLSearchParams({ limit: '200' });
  for (const key of ['action', 'agent', 'decision']) if (params.get(key)) query.set(key, params.get(key));
  const [log, verify] = await Promise.all([api(`/audit?${query}`), me.globalAdmin ? api('/audit/verify') : null]);
  const filter = el('form', { onsubmit: (e) => {
    e.preventDefault();
    const f = new URLSearchParams(new FormData(e.target));
    for (const [k, v] of [...f]) if (!v) f.delete(k);
    location.hash = `#/audit?${f}`;
  } }, ...['action', 'agent', 'decision'].map((k) => el('input', { name: k, placeholder: k, value: params.get(k) || '' })),
  el('button', { type: 'submit', text: 'Filter' }));
  if (!stillShown(mine)) return;
  show('Audit',
    verify ? el('p', { id: 'chain', class: verify.ok ? 'ok' : 'deny', text: `Chain: ${verify.summary}` }) : '',
    filter,
    table(['seq', 'time', 'actor', 'action', 'decision', 'agent', 'reason'], log.entries.map((e) => [
      e.seq, e.time, e.actor, e.action, el('span', { class: e.decision, text: e.decision }), e.agent, e.reason])));
  view.onEvent = (type) => { if (type === 'audit') schedule(auditPage); };
}

async function chatPage(agent) {
  const mine = view;
  const log = el('div', { id: 'chat-log' });
  let live = null;
  // Listen before reading the history, so nothing falls in between; what arrives meanwhile is
  // replayed after it, except the replies the history already holds (those up to its `through`;
  // a notice, outbound 0, is never stored).
  let early = [];
  const handle = (type, data) => {
    if (data.agent !== agent || data.user !== me.user) return;
    if (early) { early.push([type, data]); return; }
    if (type === 'delta') {
      if (!live) { live = el('div', { class: 'msg assistant live' }); log.append(live); }
      live.textContent += data.text;
    } else if (type === 'reset' && live) {
      live.textContent = '';
    } else if (type === 'tool_call') {
      log.append(el('div', { class: 'msg tool', 'data-tool': data.tool, text: `tool ${data.tool} ${data.input}` }));
    } else if (type === 'notice') {
      log.append(el('div', { class: 'msg', text: data.text }));
    } else if (type === 'reply') {
      live?.remove();
      live = null;
      const reply = el('div', { class: `msg assistant${data.failed ? ' deny' : ''}`, 'data-reply': String(data.outbound) },
        el('strong', { text: 'assistant: ' }), el('span', { text: data.text }));
      // A file the agent sent: served by the daemon to this chat's user (and admins) only.
      if (data.file) reply.append(fileLink(data.file));
      log.append(reply);
    }
  };
  view.onEvent = handle;
  const history = await api(`/agents/${encodeURIComponent(agent)}/messages`);
  if (!stillShown(mine)) return;
  log.append(...history.messages.map(messageNode));
  if (history.files.length) {
    log.append(el('div', { class: 'msg assistant sent-files' }, el('strong', { text: `Files ${agent} sent here: ` }),
      ...history.files.map(fileLink)));
  }
  const buffered = early;
  early = null;
  buffered.filter(([type, data]) => type !== 'reply' || data.outbound === 0 || data.outbound > history.through)
    .forEach(([type, data]) => handle(type, data));
  const input = el('input', { name: 'text', autocomplete: 'off', placeholder: `Message ${agent}` });
  const picker = el('input', { type: 'file', name: 'files', multiple: '' });
  const attached = el('span', { class: 'attached' });
  let files = [];
  const attach = (list) => { files = [...files, ...list]; attached.textContent = files.map((f) => f.name).join(', '); };
  picker.addEventListener('change', () => { attach(picker.files); picker.value = ''; });
  const form = el('form', { class: 'chat', onsubmit: async (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text && !files.length) return;
    const sending = files;
    input.value = '';
    files = [];
    attached.textContent = '';
    log.append(el('div', { class: 'msg user' }, el('strong', { text: 'user: ' }), el('span', { text }),
      ...sending.map((f) => el('div', { class: 'file', text: `📎 ${f.name}` }))));
    try {
      const uploads = [];
      for (const f of sending) uploads.push((await upload(agent, f)).upload);
      await api(`/agents/${encodeURIComponent(agent)}/messages`, { method: 'POST', body: { text, files: uploads, clientMessageId: crypto.randomUUID() } });
    } catch (err) {
      log.append(el('div', { class: 'msg deny', role: 'alert', text: `Not sent: ${err.message}` }));
    }
  } }, input, el('label', { class: 'attach' }, 'Attach', picker), attached, el('button', { type: 'submit', text: 'Send' }));
  // Drop files anywhere on the chat to attach them.
  for (const zone of [log, form]) {
    zone.addEventListener('dragover', (e) => e.preventDefault());
    zone.addEventListener('drop', (e) => { e.preventDefault(); attach(e.dataTransfer.files); });
  }
  show(`Chat with ${agent}`, log, form);
  input.focus();
}

// ---- routing and live events

let pending = null;
function schedule(fn) {
  clearTimeout(pending);
  const mine = view;
  pending = setTimeout(() => { if (view === mine) fn().catch(failed); }, 150);
}

function route() {
  const [path] = location.hash.slice(1).split('?');
  const parts = path.split('/').filter(Boolean);
  clearTimeout(pending);
  view = { onEvent: () => {} };
  const page = {
    agents: () => agentPage(parts[1]),
    sessions: () => sessionPage(parts[1]),
    approvals: approvalsPage,
    audit: auditPage,
    chat: () => chatPage(parts[1]),
    egress: () => egressPage(parts[1]),
  }[parts[0]] || overview;
  page().catch(failed);
}

async function refreshPending() {
  const { approvals } = await api('/approvals');
  document.getElementById('pending-count').textContent = approvals.length ? String(approvals.length) : '';
}

async function start() {
  try {
    me = await api('/me');
  } catch (e) {
    show('Log in', el('p', { text: 'Run ./cordon dashboard on the host and open the one-time link it prints.' }),
      el('p', { class: 'error', text: e.message }));
    return;
  }
  document.getElementById('who').textContent = me.user;
  const logout = document.getElementById('logout');
  logout.hidden = false;
  logout.addEventListener('click', async () => { await api('/logout', { method: 'POST', body: {} }); location.reload(); });
  const events = new EventSource(`${API}/events`);
  for (const type of ['audit', 'delta', 'reset', 'tool_call', 'notice', 'reply']) {
    events.addEventListener(type, (e) => {
      const data = JSON.parse(e.data);
      if (type === 'audit' && data.action.startsWith('approval.')) refreshPending().catch(() => {});
      view.onEvent(type, data);
    });
  }
  window.addEventListener('hashchange', route);
  refreshPending().catch(() => {});
  route();
}

start();
