// The inspector of `tim mock`: views over the control API (`/__tim/view/...`,
// `/__tim/requests`, `/__tim/callbacks`), kept live by polling
// `/__tim/version`. Actions go through the REST API itself, as a client's
// calls do (logged, rate limited, firing callbacks). No build step and no
// dependencies: this file is served as it is.

const PAGE = 100;
const POLL_MS = 500;

// Credentials in the page's own query (needed when the emulator is bound to
// a non-loopback address) go along with every control request.
const creds = new URLSearchParams(location.search);

function url(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, v);
  }
  for (const [k, v] of creds) q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

async function getJson(path, params) {
  const r = await fetch(url(path, params), { cache: 'no-store' });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body.error || `${r.status} ${r.statusText}`);
  return body;
}

let session = null;

/** A REST call as the app administrator; the reply body. */
async function rest(path, body) {
  if (!session) session = await getJson('/__tim/session');
  const random = Math.floor(Math.random() * 4294967295);
  const r = await fetch(`/v4/${path}?${session.query}&random=${random}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const reply = await r.json().catch(() => ({ ErrorCode: -1, ErrorInfo: `HTTP ${r.status}` }));
  if (reply.ErrorCode !== 0) throw new Error(`${path}: ${reply.ErrorCode} ${reply.ErrorInfo}`);
  return reply;
}

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

const enc = encodeURIComponent;
const time = (t) => (t ? new Date(t * 1000).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '—');
const link = (hash, text) => h('a', { href: hash }, text);
const accountLink = (id) => link(`#/account/${enc(id)}`, id);
const groupLink = (id) => link(`#/group/${enc(id)}`, id);

function status(text, error = false) {
  const el = document.getElementById('status');
  el.textContent = text;
  el.classList.toggle('error', error);
}

/** A table: `cols` are [header, cell(row), numeric?]. */
function table(caption, cols, rows, empty = 'Nothing yet.') {
  if (!rows.length) return h('p', { class: 'muted' }, empty);
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, cols.map(([name, , num]) => h('th', { scope: 'col', class: num ? 'num' : null }, name)))),
    h('tbody', {}, rows.map((r) => h('tr', {}, cols.map(([, cell, num]) => h('td', { class: num ? 'num' : null }, cell(r)))))),
  );
}

/** Previous/next links for a paged list of `total` items. */
function pager(base, params, total) {
  const page = Number(params.page || 0);
  const pages = Math.max(1, Math.ceil(total / PAGE));
  const go = (p) => `${base}?${new URLSearchParams({ ...params, page: p })}`;
  return h('nav', { class: 'pager', 'aria-label': 'Pages' },
    page > 0 ? link(go(page - 1), '← Previous') : null,
    h('span', {}, `page ${page + 1} of ${pages} · ${total} in all`),
    page + 1 < pages ? link(go(page + 1), 'Next →') : null,
  );
}

/** A form whose submit runs `action(values)` and reports the outcome. */
function form(label, fields, action, submit = 'Send') {
  const inputs = fields.map(([name, text, attrs = {}]) => {
    const id = `f-${label.replace(/\W/g, '')}-${name}`;
    const input = attrs.options
      ? h('select', { id, name }, attrs.options.map((o) => h('option', { value: o }, o)))
      : h('input', { id, name, ...attrs });
    return [name, h('label', { for: id }, text, input)];
  });
  const f = h('form', { class: 'bar', 'aria-label': label }, inputs.map(([, l]) => l), h('button', { type: 'submit' }, submit));
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    const values = Object.fromEntries(new FormData(f));
    try {
      const done = await action(values);
      status(done || `${label}: done`);
      refresh();
    } catch (err) {
      status(`${label}: ${err.message}`, true);
    }
  });
  return f;
}

const textBody = (text) => [{ MsgType: 'TIMTextElem', MsgContent: { Text: text } }];

function messageItem(m) {
  return h('li', { class: `msg${m.Recalled ? ' recalled' : ''}` },
    h('div', { class: 'meta' },
      accountLink(m.From), m.To ? [' → ', accountLink(m.To)] : '', ' · ', time(m.Time),
      m.MsgKey ? ` · MsgKey ${m.MsgKey}` : '', m.MsgSeq !== undefined ? ` · MsgSeq ${m.MsgSeq}` : '',
      ` · ${m.Elements.join(', ') || 'no elements'}`,
      m.Recalled ? ' · recalled' : '',
      m.Unread ? ' · unread' : '',
      m.PeerRead ? ' · read by the recipient' : ''),
    h('div', { class: 'text' }, m.Text || h('span', { class: 'muted' }, '(no text)')));
}

// ---- views: each returns {title, tools?, load()} -------------------------

function accountsView(params) {
  const page = Number(params.page || 0);
  return {
    title: 'Accounts',
    tools: [
      h('form', { class: 'bar', role: 'search', 'aria-label': 'Search accounts', onsubmit: (e) => {
        e.preventDefault();
        location.hash = `#/accounts?${new URLSearchParams({ q: new FormData(e.target).get('q') })}`;
      } },
      h('label', { for: 'q' }, 'UserID contains', h('input', { id: 'q', name: 'q', value: params.q || '', type: 'search' })),
      h('button', { type: 'submit' }, 'Search')),
      form('Create an account', [['UserID', 'UserID', { required: true }], ['Nick', 'Nick']],
        async (v) => {
          await rest('im_open_login_svc/account_import', v.Nick ? { UserID: v.UserID, Nick: v.Nick } : { UserID: v.UserID });
          return `account ${v.UserID} created`;
        }, 'Create'),
    ],
    async load() {
      const r = await getJson('/__tim/view/accounts', { q: params.q, offset: page * PAGE, limit: PAGE });
      return [
        table('Accounts', [
          ['UserID', (a) => accountLink(a.UserID)],
          ['Nick', (a) => a.Nick || ''],
          ['Profile fields', (a) => a.ProfileFields, true],
        ], r.items, 'No account matches.'),
        pager('#/accounts', params, r.total),
      ];
    },
  };
}

function accountView(params, [id]) {
  return {
    title: `Account ${id}`,
    tools: [
      h('p', {}, link(`#/friends/${enc(id)}`, 'Friends and blocklist')),
      form('Send a message', [['To', 'To (UserID)', { required: true }], ['Text', 'Text', { required: true }]],
        async (v) => {
          const r = await rest('openim/sendmsg', { From_Account: id, To_Account: v.To, MsgRandom: Math.floor(Math.random() * 1e9), MsgBody: textBody(v.Text) });
          return `sent, MsgKey ${r.MsgKey}`;
        }),
    ],
    async load() {
      const a = await getJson('/__tim/view/account', { id });
      if (!a.exists) return h('p', {}, `No account ${id}.`);
      const profile = Object.entries(a.Profile);
      return [
        h('h3', {}, 'Profile'),
        profile.length
          ? h('dl', { class: 'facts' }, profile.map(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'string' ? v : JSON.stringify(v))]))
          : h('p', { class: 'muted' }, 'No profile fields.'),
        h('h3', {}, 'One-to-one conversations'),
        table('One-to-one conversations, newest first', [
          ['With', (c) => link(`#/c2c/${enc(id)}/${enc(c.Peer)}`, c.Peer)],
          ['Last message', (c) => time(c.LastMsgTime)],
          [`Unread by ${id}`, (c) => c.Unread, true],
          ['Unread by the peer', (c) => c.PeerUnread, true],
        ], a.Conversations),
        h('h3', {}, 'Groups'),
        table('Groups the account is in', [
          ['Group', (g) => groupLink(g.GroupId)],
          ['Name', (g) => g.Name],
          ['Type', (g) => g.Type],
          ['Role', (g) => g.Role],
          ['Unread', (g) => g.Unread, true],
        ], a.Groups),
      ];
    },
  };
}

function c2cView(params, [a, b]) {
  const page = Number(params.page || 0);
  return {
    title: `${a} and ${b}`,
    tools: [
      form('Send a message', [['From', 'From', { options: [a, b] }], ['Text', 'Text', { required: true }]],
        async (v) => {
          const to = v.From === a ? b : a;
          const r = await rest('openim/sendmsg', { From_Account: v.From, To_Account: to, MsgRandom: Math.floor(Math.random() * 1e9), MsgBody: textBody(v.Text) });
          return `sent, MsgKey ${r.MsgKey}`;
        }),
    ],
    async load() {
      const r = await getJson('/__tim/view/c2c', { a, b, offset: page * PAGE, limit: PAGE });
      return [
        h('dl', { class: 'facts' },
          h('dt', {}, `Unread by ${a}`), h('dd', { 'data-unread': a }, r.UnreadA),
          h('dt', {}, `Unread by ${b}`), h('dd', { 'data-unread': b }, r.UnreadB),
          h('dt', {}, 'Messages'), h('dd', {}, r.total)),
        r.Messages.length
          ? h('ol', { class: 'messages', 'aria-label': 'Messages, oldest first', style: 'list-style:none;padding:0' }, r.Messages.map(messageItem))
          : h('p', { class: 'muted' }, 'No messages.'),
        pager(`#/c2c/${enc(a)}/${enc(b)}`, params, r.total),
      ];
    },
  };
}

function friendsView(params, [id]) {
  return {
    title: `Friends of ${id}`,
    async load() {
      const r = await getJson('/__tim/view/friends', { id });
      return [
        h('p', {}, accountLink(id)),
        table('Friends', [
          ['Friend', (f) => accountLink(f.UserID)],
          ['Remark', (f) => f.Remark],
          ['Lists', (f) => f.Groups.join(', ')],
          ['Added', (f) => time(f.AddTime)],
          ['Friend back', (f) => (f.Mutual ? 'yes' : 'no')],
        ], r.Friends, 'No friends.'),
        h('h3', {}, 'Blocklist'),
        table('Blocked users', [
          ['User', (f) => accountLink(f.UserID)],
          ['Since', (f) => time(f.Since)],
        ], r.Blocklist, 'Nobody blocked.'),
      ];
    },
  };
}

function groupsView(params) {
  const page = Number(params.page || 0);
  return {
    title: 'Groups',
    tools: [
      h('form', { class: 'bar', role: 'search', 'aria-label': 'Search groups', onsubmit: (e) => {
        e.preventDefault();
        location.hash = `#/groups?${new URLSearchParams({ q: new FormData(e.target).get('q') })}`;
      } },
      h('label', { for: 'gq' }, 'ID or name contains', h('input', { id: 'gq', name: 'q', value: params.q || '', type: 'search' })),
      h('button', { type: 'submit' }, 'Search')),
    ],
    async load() {
      const r = await getJson('/__tim/view/groups', { q: params.q, offset: page * PAGE, limit: PAGE });
      return [
        table('Groups', [
          ['Group', (g) => groupLink(g.GroupId)],
          ['Name', (g) => g.Name],
          ['Type', (g) => g.Type],
          ['Owner', (g) => (g.Owner ? accountLink(g.Owner) : '—')],
          ['Members', (g) => g.MemberNum, true],
          ['Latest MsgSeq', (g) => g.MsgSeq, true],
        ], r.items, 'No group matches.'),
        pager('#/groups', params, r.total),
      ];
    },
  };
}

function groupView(params, [id]) {
  const page = Number(params.page || 0);
  return {
    title: `Group ${id}`,
    tools: [
      form('Send a group message', [['From', 'From (UserID)', { required: true }], ['Text', 'Text', { required: true }]],
        async (v) => {
          const r = await rest('group_open_http_svc/send_group_msg', { GroupId: id, From_Account: v.From, Random: Math.floor(Math.random() * 1e9), MsgBody: textBody(v.Text) });
          return `sent, MsgSeq ${r.MsgSeq}`;
        }),
    ],
    async load() {
      const g = await getJson('/__tim/view/group', { id, offset: page * PAGE, limit: PAGE });
      if (!g.exists) return h('p', {}, `No group ${id}.`);
      const kv = (title, obj) => {
        const rows = Object.entries(obj);
        return [h('h3', {}, title), table(title, [['Key', (r) => r[0]], ['Value', (r) => String(r[1])]], rows, 'None.')];
      };
      return [
        h('dl', { class: 'facts' },
          h('dt', {}, 'Name'), h('dd', {}, g.Name),
          h('dt', {}, 'Type'), h('dd', {}, g.Type),
          h('dt', {}, 'Owner'), h('dd', {}, g.Owner ? accountLink(g.Owner) : '—'),
          h('dt', {}, 'Latest MsgSeq'), h('dd', {}, g.MsgSeq),
          h('dt', {}, 'Everyone muted'), h('dd', {}, g.MuteAll ? 'yes' : 'no')),
        h('h3', {}, 'Members'),
        table('Members, in join order', [
          ['Member', (m) => accountLink(m.Account)],
          ['Role', (m) => m.Role],
          ['Unread', (m) => m.Unread, true],
          ['Muted until', (m) => (m.MutedUntil ? time(m.MutedUntil) : '—')],
        ], g.Members.items, 'No members (live groups keep none).'),
        pager(`#/group/${enc(id)}`, params, g.Members.total),
        h('h3', {}, 'Messages'),
        g.Messages.length
          ? h('ol', { class: 'messages', 'aria-label': 'Latest messages by MsgSeq', style: 'list-style:none;padding:0' }, g.Messages.map(messageItem))
          : h('p', { class: 'muted' }, 'No stored messages.'),
        kv('Attributes', g.Attributes),
        kv('Counters', g.Counters),
        h('h3', {}, 'Topics'),
        table('Topics', [['Topic', (t) => t.TopicId], ['Name', (t) => t.Name], ['Latest MsgSeq', (t) => t.MsgSeq, true]], g.Topics, 'No topics.'),
      ];
    },
  };
}

function callbacksView(params) {
  return {
    title: 'Callbacks sent',
    tools: [
      h('form', { class: 'bar', role: 'search', 'aria-label': 'Filter callbacks', onsubmit: (e) => {
        e.preventDefault();
        location.hash = `#/callbacks?${new URLSearchParams({ command: new FormData(e.target).get('command') })}`;
      } },
      h('label', { for: 'cc' }, 'Command contains', h('input', { id: 'cc', name: 'command', value: params.command || '', type: 'search' })),
      h('button', { type: 'submit' }, 'Filter')),
    ],
    async load() {
      const all = await getJson('/__tim/callbacks', { command: params.command, limit: 500 });
      const rows = all.slice().reverse();
      return table('Callbacks, newest first', [
        ['Command', (c) => c.CallbackCommand],
        ['Decision', (c) => c.decision.effect + (c.decision.decision ? ` (${c.decision.decision})` : '')],
        ['Receiver answered', (c) => (c.response.error ? h('span', { class: 'code-bad' }, c.response.error) : `HTTP ${c.response.status}`)],
        ['Latency', (c) => `${c.latency_ms.toFixed(1)} ms`, true],
        ['Payload and reply', (c) => h('details', {}, h('summary', {}, 'show'),
          h('pre', {}, JSON.stringify(c.payload, null, 2)), h('pre', {}, c.response.body || ''))],
      ], rows, 'No callback sent (start the emulator with --callback-url to send them).');
    },
  };
}

function requestsView(params) {
  return {
    title: 'Requests',
    tools: [
      h('form', { class: 'bar', role: 'search', 'aria-label': 'Filter requests', onsubmit: (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        location.hash = `#/requests?${new URLSearchParams({ path: f.get('path'), errors: f.get('errors') ? '1' : '' })}`;
      } },
      h('label', { for: 'rp' }, 'Path contains', h('input', { id: 'rp', name: 'path', value: params.path || '', type: 'search' })),
      h('label', { for: 're' }, 'Errors only', h('input', { id: 're', name: 'errors', type: 'checkbox', checked: params.errors === '1' })),
      h('button', { type: 'submit' }, 'Filter')),
    ],
    async load() {
      const all = await getJson('/__tim/requests', { path: params.path, errors: params.errors, limit: 500 });
      const rows = all.slice().reverse();
      return table('Requests, newest first', [
        ['Path', (r) => r.path],
        ['ErrorCode', (r) => h('span', { class: r.ErrorCode ? 'code-bad' : 'code-ok' }, r.ErrorCode ?? r.outcome)],
        ['ErrorInfo', (r) => r.ErrorInfo],
        ['Latency', (r) => `${r.latency_ms.toFixed(2)} ms`, true],
        ['', (r) => (r.canned ? 'canned' : '')],
      ], rows, 'No request matches.');
    },
  };
}

function appView() {
  return {
    title: 'The emulated app',
    tools: [
      h('p', {}, h('a', { href: url('/__tim/state'), download: 'tim-state.json' }, 'Download the state file')),
      form('Load a state file', [['file', 'State file', { type: 'file', accept: 'application/json,.json', required: true }]],
        async (v) => {
          const r = await fetch(url('/__tim/state'), { method: 'PUT', body: await v.file.text() });
          const body = await r.json().catch(() => ({}));
          if (!r.ok) throw new Error(body.error || `HTTP ${r.status}`);
          return 'state loaded';
        }, 'Load'),
      h('p', {}, h('button', { type: 'button', class: 'danger', id: 'reset', onclick: async () => {
        if (!window.confirm('Reset the emulated app? Every account, message and group is removed.')) return;
        try {
          const r = await fetch(url('/__tim/reset'), { method: 'POST' });
          if (!r.ok) throw new Error(`HTTP ${r.status}`);
          status('the state was reset');
          refresh();
        } catch (err) {
          status(`reset: ${err.message}`, true);
        }
      } }, 'Reset the state')),
    ],
    async load() {
      const s = await getJson('/__tim/view/summary');
      return h('dl', { class: 'facts' }, Object.entries(s).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
    },
  };
}

const ROUTES = [
  [/^\/accounts$/, accountsView, 'accounts'],
  [/^\/account\/(.+)$/, accountView, 'accounts'],
  [/^\/c2c\/([^/]+)\/([^/]+)$/, c2cView, 'accounts'],
  [/^\/friends\/(.+)$/, friendsView, 'accounts'],
  [/^\/groups$/, groupsView, 'groups'],
  [/^\/group\/(.+)$/, groupView, 'groups'],
  [/^\/callbacks$/, callbacksView, 'callbacks'],
  [/^\/requests$/, requestsView, 'requests'],
  [/^\/app$/, appView, 'app'],
];

let current = null;
let data = null;

async function refresh() {
  if (!current || !data) return;
  try {
    const nodes = await current.load();
    data.replaceChildren(...[nodes].flat(Infinity));
    data.setAttribute('aria-busy', 'false');
  } catch (err) {
    status(err.message, true);
  }
}

function route() {
  const raw = location.hash.replace(/^#/, '') || '/accounts';
  const [path, query = ''] = raw.split('?');
  const params = Object.fromEntries(new URLSearchParams(query));
  for (const [re, view, nav] of ROUTES) {
    const m = path.match(re);
    if (!m) continue;
    current = view(params, m.slice(1).map(decodeURIComponent));
    for (const a of document.querySelectorAll('nav a')) {
      if (a.dataset.view === nav) a.setAttribute('aria-current', 'page');
      else a.removeAttribute('aria-current');
    }
    document.title = `${current.title} · tim mock inspector`;
    data = h('section', { 'aria-live': 'polite', 'aria-busy': 'true', 'aria-label': current.title });
    document.getElementById('main').replaceChildren(h('h2', {}, current.title), ...(current.tools || []), data);
    refresh();
    return;
  }
  location.hash = '#/accounts';
}

let version = null;

async function poll() {
  try {
    const v = await getJson('/__tim/version');
    document.getElementById('live').textContent = `live · change ${v.version}`;
    if (version !== null && v.version !== version) refresh();
    version = v.version;
  } catch (err) {
    document.getElementById('live').textContent = `disconnected (${err.message})`;
  }
  setTimeout(poll, POLL_MS);
}

window.addEventListener('hashchange', route);
route();
poll();
