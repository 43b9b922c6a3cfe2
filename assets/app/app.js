// The wootlite agent app. It talks to the server only through the public API and `/cable`,
// like any other client. Every piece of data is put on the page as text (textContent and
// attribute values), never as markup: message content comes from strangers.
'use strict';

(() => {
  // ---------------------------------------------------------------- DOM
  /** Builds an element: `h('button', {class: 'x', onclick: f}, 'text', child)`. */
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'class') el.className = value;
      else if (key === 'text') el.textContent = value;
      else if (key.startsWith('on') && typeof value === 'function') {
        el.addEventListener(key.slice(2), value);
      } else if (key === 'dataset') Object.assign(el.dataset, value);
      else if (['value', 'checked', 'disabled', 'selected', 'hidden', 'open'].includes(key)) {
        el[key] = value;
      } else el.setAttribute(key, value === true ? '' : String(value));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  function replace(el, ...children) {
    el.replaceChildren();
    return append(el, children);
  }

  const byId = (id) => document.getElementById(id);

  function option(value, label, selected) {
    return h('option', { value: String(value), selected: String(selected) === String(value) }, label);
  }

  function select(id, label, options, value, onchange) {
    return h('label', { class: 'field' },
      h('span', { class: 'label' }, label),
      h('select', { id, onchange: (e) => onchange(e.target.value) },
        options.map(([v, text]) => option(v, text, value ?? ''))));
  }

  let toastTimer = null;
  function toast(text, kind) {
    const el = byId('toast');
    el.textContent = text;
    el.className = kind === 'error' ? 'show error' : 'show';
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { el.className = ''; }, 4000);
  }

  // ---------------------------------------------------------------- time
  function when(seconds) {
    if (!seconds) return '';
    const date = new Date(seconds * 1000);
    const age = (Date.now() - date.getTime()) / 1000;
    if (age < 60) return 'now';
    if (age < 3600) return `${Math.floor(age / 60)}m`;
    if (age < 86400) return `${Math.floor(age / 3600)}h`;
    if (age < 86400 * 30) return `${Math.floor(age / 86400)}d`;
    return date.toLocaleDateString();
  }

  const fullTime = (seconds) => (seconds ? new Date(seconds * 1000).toLocaleString() : '');

  // ---------------------------------------------------------------- API
  const session = { csrf: null, profile: null, accountId: null, role: null, userId: null, catalogue: null };

  class ApiFailure extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function failureText(data, status) {
    if (data && typeof data === 'object') {
      if (typeof data.error === 'string') return data.error;
      if (typeof data.message === 'string') return data.message;
      if (Array.isArray(data.errors)) return data.errors.join(', ');
      if (data.errors && typeof data.errors === 'object') {
        return Object.entries(data.errors).map(([k, v]) => `${k} ${[].concat(v).join(', ')}`).join('; ');
      }
    }
    return `Request failed (${status})`;
  }

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    let payload;
    if (body instanceof FormData) payload = body;
    else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch { data = null; }
    }
    if (res.status === 401 && session.csrf && path !== '/auth/session') {
      // The session ended elsewhere (sign-out in another tab, a password change).
      session.csrf = null;
      go('#/login');
    }
    if (!res.ok) throw new ApiFailure(res.status, failureText(data, res.status));
    return data;
  }

  const account = (path) => `/api/v1/accounts/${session.accountId}${path}`;
  const get = (path) => api('GET', account(path));
  const post = (path, body) => api('POST', account(path), body ?? {});
  const patch = (path, body) => api('PATCH', account(path), body);
  const remove = (path) => api('DELETE', account(path));

  /** Runs an action, telling the agent when it failed. */
  async function attempt(what, action) {
    try {
      const result = await action();
      return result;
    } catch (e) {
      toast(`${what}: ${e.message}`, 'error');
      return undefined;
    }
  }

  // ---------------------------------------------------------------- account catalogue
  // What rarely changes, loaded once per sign-in and refreshed by the admin screens.
  const catalogue = { inboxes: [], agents: [], teams: [], labels: [], attributes: [] };

  async function loadCatalogue() {
    const [inboxes, agents, teams, labels, attributes] = await Promise.all([
      get('/inboxes'), get('/agents'), get('/teams'), get('/labels'),
      get('/custom_attribute_definitions'),
    ]);
    catalogue.inboxes = inboxes.payload || [];
    catalogue.agents = agents || [];
    catalogue.teams = teams || [];
    catalogue.labels = labels.payload || [];
    catalogue.attributes = attributes || [];
  }

  const nameOf = (list, id, key = 'name') => (list.find((x) => x.id === id) || {})[key] || '';
  const isAdministrator = () => session.role === 'administrator';

  // ---------------------------------------------------------------- routing
  function route() {
    const raw = location.hash.replace(/^#/, '') || '/conversations';
    const [path, query] = raw.split('?');
    return { parts: path.split('/').filter(Boolean), params: new URLSearchParams(query || '') };
  }

  function go(hash) {
    if (location.hash === hash) render();
    else location.hash = hash;
  }

  /** The inbox screen's address for the given list settings (and open conversation). */
  function listHash(params, conversationId) {
    const query = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) query.set(k, v);
    const path = conversationId ? `#/conversations/${conversationId}` : '#/conversations';
    const text = query.toString();
    return text ? `${path}?${text}` : path;
  }

  // ---------------------------------------------------------------- sign-in
  async function startSession(answer) {
    session.csrf = answer.csrf_token;
    session.profile = answer.profile;
    session.userId = answer.profile.id;
    const accounts = answer.profile.accounts || [];
    const chosen = accounts.find((a) => a.id === answer.profile.account_id) || accounts[0];
    session.accountId = chosen ? chosen.id : null;
    session.role = chosen ? chosen.role : null;
    if (!session.accountId) throw new ApiFailure(403, 'This user belongs to no account');
    // Awaited by the screens, which meanwhile ask for their own data.
    session.catalogue = loadCatalogue();
    session.catalogue.catch((e) => toast(`Loading the account: ${e.message}`, 'error'));
    cable.connect();
  }

  function renderSignIn() {
    const error = h('p', { id: 'login-error', class: 'error', role: 'alert' });
    const form = h('form', { class: 'card narrow', id: 'login-form', 'aria-labelledby': 'login-title' },
      h('h1', { id: 'login-title' }, 'Sign in to wootlite'),
      h('label', { class: 'field' }, h('span', { class: 'label' }, 'Email'),
        h('input', { id: 'login-email', type: 'email', name: 'email', autocomplete: 'username', required: true })),
      h('label', { class: 'field' }, h('span', { class: 'label' }, 'Password'),
        h('input', { id: 'login-password', type: 'password', name: 'password', autocomplete: 'current-password', required: true })),
      error,
      h('button', { id: 'login-submit', type: 'submit', class: 'primary' }, 'Sign in'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      error.textContent = '';
      try {
        const answer = await api('POST', '/auth/session', {
          email: byId('login-email').value, password: byId('login-password').value,
        });
        await startSession(answer);
        go('#/conversations');
      } catch (failure) {
        error.textContent = failure.status === 401 ? 'Wrong email or password.' : failure.message;
      }
    });
    replace(byId('app'), h('main', { class: 'center' }, form));
    byId('login-email').focus();
  }

  function renderSetPassword(params) {
    const token = params.get('token') || '';
    const note = h('p', { id: 'password-note', role: 'alert' });
    const form = h('form', { class: 'card narrow', id: 'password-form' },
      h('h1', {}, 'Choose your password'),
      h('label', { class: 'field' }, h('span', { class: 'label' }, 'New password (at least 8 characters)'),
        h('input', { id: 'password-new', type: 'password', autocomplete: 'new-password', minlength: 8, required: true })),
      h('label', { class: 'field' }, h('span', { class: 'label' }, 'Repeat it'),
        h('input', { id: 'password-again', type: 'password', autocomplete: 'new-password', required: true })),
      note,
      h('button', { id: 'password-submit', type: 'submit', class: 'primary' }, 'Set password'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      try {
        await api('PUT', '/auth/password', {
          reset_password_token: token,
          password: byId('password-new').value,
          password_confirmation: byId('password-again').value,
        });
        note.className = '';
        replace(note, 'Your password is set. ', h('a', { href: '#/login' }, 'Sign in'));
      } catch (failure) {
        note.className = 'error';
        note.textContent = failure.message;
      }
    });
    replace(byId('app'), h('main', { class: 'center' }, form));
  }

  async function signOut() {
    await attempt('Sign out', () => api('DELETE', '/auth/session'));
    cable.close();
    cable.confirmed = false;
    session.csrf = null;
    go('#/login');
  }

  // ---------------------------------------------------------------- frame
  function frame(active, main) {
    const nav = h('nav', { class: 'top', 'aria-label': 'Main' },
      h('a', { class: 'brand', href: '#/conversations' }, 'wootlite'),
      h('a', { href: '#/conversations', 'aria-current': active === 'conversations' ? 'page' : null }, 'Conversations'),
      isAdministrator()
        ? h('a', { id: 'nav-admin', href: '#/admin/agents', 'aria-current': active === 'admin' ? 'page' : null }, 'Settings')
        : null,
      h('span', { class: 'spacer' }),
      h('span', { class: 'me', id: 'me' }, session.profile.name),
      h('button', { id: 'sign-out', type: 'button', onclick: signOut }, 'Sign out'));
    replace(byId('app'), h('header', {}, nav), main);
  }

  // ---------------------------------------------------------------- inbox screen
  const TABS = [['mine', 'Mine'], ['unassigned', 'Unassigned'], ['all', 'All']];
  const STATUSES = [['open', 'Open'], ['pending', 'Pending'], ['snoozed', 'Snoozed'], ['resolved', 'Resolved'], ['all', 'All']];
  const SORTS = [
    ['latest', 'Last activity'], ['sort_on_created_at', 'Created at'],
    ['sort_on_priority', 'Priority'], ['sort_on_waiting_since', 'Waiting since'],
  ];
  const PRIORITIES = [['', 'None'], ['urgent', 'Urgent'], ['high', 'High'], ['medium', 'Medium'], ['low', 'Low']];

  const list = {
    params: {}, // tab, status, inbox, team, label, sort, q
    filter: null, // an advanced filter's payload while one is applied
    rows: [],
    meta: {},
    page: 1,
    more: false,
    openId: null,
  };

  function listParams(params) {
    return {
      tab: params.get('tab') || 'mine',
      status: params.get('status') || 'open',
      inbox: params.get('inbox') || '',
      team: params.get('team') || '',
      label: params.get('label') || '',
      sort: params.get('sort') || 'latest',
      q: params.get('q') || '',
    };
  }

  async function fetchList(page) {
    const p = list.params;
    if (list.filter) {
      const answer = await post(`/conversations/filter?page=${page}`, { payload: list.filter });
      return { meta: answer.meta, rows: answer.payload };
    }
    const query = new URLSearchParams({ assignee_type: p.tab === 'mine' ? 'me' : p.tab, status: p.status, sort_by: p.sort, page: String(page) });
    if (p.inbox) query.set('inbox_id', p.inbox);
    if (p.team) query.set('team_id', p.team);
    if (p.label) query.append('labels[]', p.label);
    if (p.q) {
      query.set('q', p.q);
      const answer = await get(`/conversations/search?${query}`);
      return { meta: answer.meta, rows: answer.payload };
    }
    const answer = await get(`/conversations?${query}`);
    return { meta: answer.data.meta, rows: answer.data.payload };
  }

  async function loadList() {
    const answer = await attempt('Loading conversations', () => fetchList(1));
    if (answer) showList(answer);
  }

  function showList(answer) {
    list.rows = answer.rows;
    list.meta = answer.meta;
    list.page = 1;
    list.more = answer.rows.length >= 25;
    drawList();
  }

  async function loadMore() {
    const answer = await attempt('Loading conversations', () => fetchList(list.page + 1));
    if (!answer) return;
    list.page += 1;
    const known = new Set(list.rows.map((r) => r.id));
    list.rows.push(...answer.rows.filter((r) => !known.has(r.id)));
    list.more = answer.rows.length >= 25;
    drawList();
  }

  function setParams(change) {
    list.filter = null;
    go(listHash({ ...list.params, ...change }, null));
  }

  function countOf(tab) {
    const meta = list.meta || {};
    const key = { mine: 'mine_count', unassigned: 'unassigned_count', all: 'all_count' }[tab];
    return meta[key] ?? '';
  }

  function listControls() {
    const p = list.params;
    const search = h('input', {
      id: 'search', type: 'search', placeholder: 'Search messages', value: p.q,
      'aria-label': 'Search message content', autocomplete: 'off',
    });
    const searchForm = h('form', { role: 'search', class: 'search' }, search);
    searchForm.addEventListener('submit', (e) => { e.preventDefault(); setParams({ q: search.value.trim() }); });
    return h('div', { class: 'controls' },
      searchForm,
      h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Assignee' },
        TABS.map(([tab, label]) => h('button', {
          type: 'button', role: 'tab', dataset: { tab }, 'aria-selected': String(p.tab === tab),
          onclick: () => setParams({ tab }),
        }, label, ' ', h('span', { class: 'count', dataset: { count: tab } }, String(countOf(tab)))))),
      h('div', { class: 'filters' },
        select('filter-status', 'Status', STATUSES, p.status, (status) => setParams({ status })),
        select('filter-inbox', 'Inbox', [['', 'All inboxes'], ...catalogue.inboxes.map((i) => [i.id, i.name])], p.inbox, (inbox) => setParams({ inbox })),
        select('filter-team', 'Team', [['', 'All teams'], ...catalogue.teams.map((t) => [t.id, t.name])], p.team, (team) => setParams({ team })),
        select('filter-label', 'Label', [['', 'All labels'], ...catalogue.labels.map((l) => [l.title, l.title])], p.label, (label) => setParams({ label })),
        select('filter-sort', 'Sort', SORTS, p.sort, (sort) => setParams({ sort })),
        h('button', { type: 'button', id: 'open-filter', onclick: openFilterBuilder }, list.filter ? 'Filter (on)' : 'Filter…'),
        list.filter ? h('button', { type: 'button', id: 'clear-filter', onclick: () => { list.filter = null; loadList(); drawControls(); } }, 'Clear filter') : null));
  }

  function drawControls() {
    const slot = byId('list-controls');
    if (slot) replace(slot, listControls());
  }

  function row(c) {
    const last = c.last_non_activity_message || (c.messages || [])[0] || null;
    const sender = (c.meta && c.meta.sender) || {};
    const assignee = c.meta && c.meta.assignee;
    const excerpt = last
      ? `${last.message_type === 1 ? (last.private ? 'Note: ' : 'You: ') : ''}${last.content || (last.attachments && last.attachments.length ? '[attachment]' : '')}`
      : '';
    const href = listHash(list.params, c.id);
    return h('li', { dataset: { id: c.id, status: c.status }, class: list.openId === c.id ? 'row open' : 'row' },
      h('a', { href, 'aria-current': list.openId === c.id ? 'true' : null },
        h('span', { class: 'row-top' },
          h('strong', { class: 'contact' }, sender.name || `Contact ${sender.id || ''}`),
          h('time', { class: 'time', datetime: new Date((c.last_activity_at || c.timestamp || 0) * 1000).toISOString(), title: fullTime(c.last_activity_at) }, when(c.last_activity_at || c.timestamp)),
        ),
        h('span', { class: 'excerpt' }, excerpt),
        h('span', { class: 'row-meta' },
          h('span', { class: 'inbox' }, `#${c.id} · ${nameOf(catalogue.inboxes, c.inbox_id)}`),
          c.priority ? h('span', { class: `priority ${c.priority}` }, c.priority) : null,
          assignee ? h('span', { class: 'chip assignee', title: 'Assigned agent' }, assignee.name) : null,
          (c.labels || []).map((l) => h('span', { class: 'chip' }, l)),
          c.unread_count ? h('span', { class: 'unread', 'aria-label': `${c.unread_count} unread` }, String(c.unread_count)) : null)));
  }

  function drawList() {
    for (const [tab] of TABS) {
      const el = document.querySelector(`[data-count="${tab}"]`);
      if (el) el.textContent = String(countOf(tab));
    }
    const ul = byId('conversation-list');
    if (!ul) return;
    replace(ul, list.rows.length ? list.rows.map(row) : h('li', { class: 'empty' }, 'No conversations here.'));
    const more = byId('list-more');
    more.hidden = !list.more;
    document.body.dataset.list = 'ready';
    performance.mark('inbox-ready');
  }

  async function renderInbox(parts, params) {
    const previous = JSON.stringify(list.params);
    list.params = listParams(params);
    const openId = parts[1] ? Number(parts[1]) : null;
    const layoutExists = byId('conversation-list');
    const listChanged = !layoutExists || previous !== JSON.stringify(list.params);
    // The list, the conversation and the account's catalogue are asked for at once.
    const listing = listChanged ? attempt('Loading conversations', () => fetchList(1)) : null;
    const opening = openId && thread.id !== openId ? fetchThread(openId) : null;
    await session.catalogue;
    if (!layoutExists) {
      const main = h('main', { class: openId ? 'inbox has-open' : 'inbox' },
        h('section', { class: 'list-pane', 'aria-label': 'Conversations' },
          h('div', { id: 'list-controls' }, listControls()),
          h('ul', { id: 'conversation-list', class: 'rows' }),
          h('button', { id: 'list-more', type: 'button', hidden: true, onclick: loadMore }, 'Load more')),
        h('section', { id: 'conversation-pane', class: 'thread-pane', 'aria-label': 'Conversation' },
          h('p', { class: 'placeholder' }, 'Choose a conversation.')));
      frame('conversations', main);
    } else {
      byId('app').querySelector('main').className = openId ? 'inbox has-open' : 'inbox';
    }
    list.openId = openId;
    if (listChanged) drawControls();
    const showing = openId ? openConversation(openId, opening) : null;
    if (listing) {
      const answer = await listing;
      if (answer) showList(answer);
    } else {
      drawList();
    }
    if (showing) await showing;
    else {
      thread.id = null;
      replace(byId('conversation-pane'), h('p', { class: 'placeholder' }, 'Choose a conversation.'));
    }
  }

  // Refreshes after a live change, at most every 300 ms.
  let listRefresh = null;
  function refreshListSoon() {
    if (listRefresh || !byId('conversation-list')) return;
    listRefresh = setTimeout(async () => {
      listRefresh = null;
      const answer = await attempt('Refreshing', () => fetchList(1));
      if (!answer) return;
      list.meta = answer.meta;
      const fresh = new Map(answer.rows.map((r) => [r.id, r]));
      // Page one is replaced; rows loaded from later pages stay below it.
      list.rows = answer.rows.concat(list.rows.slice(answer.rows.length).filter((r) => !fresh.has(r.id)));
      drawList();
    }, 300);
  }

  // ---------------------------------------------------------------- advanced filter
  const FILTER_KEYS = [
    ['status', 'Status', 'list', ['open', 'resolved', 'pending', 'snoozed']],
    ['assignee_id', 'Assignee', 'agent'],
    ['inbox_id', 'Inbox', 'inbox'],
    ['team_id', 'Team', 'team'],
    ['priority', 'Priority', 'list', ['urgent', 'high', 'medium', 'low']],
    ['labels', 'Labels', 'label'],
    ['display_id', 'Conversation id', 'number'],
    ['browser_language', 'Browser language', 'text'],
    ['referer', 'Referer link', 'text'],
    ['created_at', 'Created at', 'date'],
    ['last_activity_at', 'Last activity', 'date'],
  ];
  const OPERATORS = {
    list: ['equal_to', 'not_equal_to'],
    agent: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'],
    inbox: ['equal_to', 'not_equal_to'],
    team: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'],
    label: ['equal_to', 'not_equal_to', 'is_present', 'is_not_present'],
    number: ['equal_to', 'not_equal_to'],
    text: ['equal_to', 'not_equal_to', 'contains', 'does_not_contain'],
    date: ['is_greater_than', 'is_less_than', 'days_before'],
  };

  function filterKeys() {
    const custom = catalogue.attributes
      .filter((a) => a.attribute_model === 'conversation_attribute')
      .map((a) => [a.attribute_key, a.attribute_display_name, a.attribute_display_type === 'number' ? 'number' : a.attribute_display_type === 'date' ? 'date' : 'text']);
    return FILTER_KEYS.concat(custom);
  }

  function valueChoices(kind, extra) {
    if (kind === 'list') return extra.map((v) => [v, v]);
    if (kind === 'agent') return catalogue.agents.map((a) => [a.id, a.name]);
    if (kind === 'inbox') return catalogue.inboxes.map((i) => [i.id, i.name]);
    if (kind === 'team') return catalogue.teams.map((t) => [t.id, t.name]);
    if (kind === 'label') return catalogue.labels.map((l) => [l.title, l.title]);
    return null;
  }

  function conditionRow(condition, index, rows, redraw) {
    const keys = filterKeys();
    const spec = keys.find((k) => k[0] === condition.attribute_key) || keys[0];
    const kind = spec[2];
    const operators = OPERATORS[kind];
    if (!operators.includes(condition.filter_operator)) condition.filter_operator = operators[0];
    const choices = valueChoices(kind, spec[3]);
    const needsValue = !['is_present', 'is_not_present'].includes(condition.filter_operator);
    let valueInput = null;
    if (needsValue && choices) {
      valueInput = h('select', { class: 'filter-value', 'aria-label': 'Value', onchange: (e) => { condition.value = e.target.value; } },
        choices.map(([v, t]) => option(v, t, condition.value)));
      if (condition.value === undefined || condition.value === '') condition.value = choices.length ? String(choices[0][0]) : '';
    } else if (needsValue) {
      valueInput = h('input', {
        class: 'filter-value', 'aria-label': 'Value', value: condition.value || '',
        type: kind === 'number' ? 'number' : kind === 'date' && condition.filter_operator !== 'days_before' ? 'date' : 'text',
        oninput: (e) => { condition.value = e.target.value; },
      });
    }
    return h('div', { class: 'condition', dataset: { index } },
      index > 0 ? h('select', { class: 'filter-join', 'aria-label': 'Join', onchange: (e) => { rows[index - 1].query_operator = e.target.value; } },
        option('and', 'and', rows[index - 1].query_operator), option('or', 'or', rows[index - 1].query_operator)) : h('span', { class: 'filter-join' }, 'where'),
      h('select', { class: 'filter-key', 'aria-label': 'Attribute', onchange: (e) => { condition.attribute_key = e.target.value; condition.value = ''; redraw(); } },
        keys.map(([k, label]) => option(k, label, condition.attribute_key))),
      h('select', { class: 'filter-operator', 'aria-label': 'Operator', onchange: (e) => { condition.filter_operator = e.target.value; redraw(); } },
        operators.map((o) => option(o, o.replace(/_/g, ' '), condition.filter_operator))),
      valueInput,
      rows.length > 1 ? h('button', { type: 'button', class: 'remove', 'aria-label': 'Remove condition', onclick: () => { rows.splice(index, 1); redraw(); } }, '×') : null);
  }

  /** Chatwoot's filter payload from the builder's rows. */
  function filterPayload(rows) {
    return rows.map((c, i) => {
      const spec = filterKeys().find((k) => k[0] === c.attribute_key) || [];
      const numeric = ['agent', 'inbox', 'team', 'number'].includes(spec[2]);
      const none = ['is_present', 'is_not_present'].includes(c.filter_operator);
      const value = numeric && c.value !== '' ? Number(c.value) : c.value;
      return {
        attribute_key: c.attribute_key,
        filter_operator: c.filter_operator,
        values: none ? [] : [value],
        query_operator: i < rows.length - 1 ? (c.query_operator || 'and') : null,
      };
    });
  }

  function openFilterBuilder() {
    const rows = (list.filter || []).map((c) => ({ ...c, value: (c.values || [])[0] ?? '' }));
    if (!rows.length) rows.push({ attribute_key: 'status', filter_operator: 'equal_to', value: 'open', query_operator: 'and' });
    const body = h('div', { id: 'filter-rows' });
    const redraw = () => replace(body, rows.map((c, i) => conditionRow(c, i, rows, redraw)));
    redraw();
    const error = h('p', { class: 'error', role: 'alert' });
    const dialog = h('dialog', { id: 'filter-dialog', 'aria-labelledby': 'filter-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'filter-title' }, 'Filter conversations'),
        body,
        h('button', { type: 'button', id: 'filter-add', onclick: () => { rows.push({ attribute_key: 'status', filter_operator: 'equal_to', value: 'open', query_operator: 'and' }); redraw(); } }, 'Add condition'),
        error,
        h('div', { class: 'buttons' },
          h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
          h('button', {
            type: 'button', id: 'filter-apply', class: 'primary',
            onclick: async () => {
              const payload = filterPayload(rows);
              try {
                const answer = await post('/conversations/filter?page=1', { payload });
                list.filter = payload;
                list.rows = answer.payload;
                list.meta = answer.meta;
                list.page = 1;
                list.more = answer.payload.length >= 25;
                dialog.close();
                drawControls();
                drawList();
              } catch (failure) {
                error.textContent = failure.message;
              }
            },
          }, 'Apply'))));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  // ---------------------------------------------------------------- conversation screen
  const thread = { id: null, conversation: null, messages: [], contact: null, typing: new Map(), seen: null };

  const SNOOZES = [
    ['', 'Snooze…'], ['next_reply', 'Until next reply'], ['hour', 'For an hour'],
    ['tomorrow', 'Until tomorrow 9:00'], ['week', 'Until next week'], ['date', 'Until a date…'],
  ];

  function snoozeUntil(choice) {
    const now = new Date();
    if (choice === 'hour') return Math.floor(now.getTime() / 1000) + 3600;
    if (choice === 'tomorrow') {
      const t = new Date(now.getFullYear(), now.getMonth(), now.getDate() + 1, 9, 0, 0);
      return Math.floor(t.getTime() / 1000);
    }
    if (choice === 'week') {
      const days = ((8 - now.getDay()) % 7) || 7;
      const t = new Date(now.getFullYear(), now.getMonth(), now.getDate() + days, 9, 0, 0);
      return Math.floor(t.getTime() / 1000);
    }
    return null;
  }

  /** The conversation and its latest messages. */
  function fetchThread(id) {
    return attempt('Opening the conversation', () => Promise.all([
      get(`/conversations/${id}`), get(`/conversations/${id}/messages`),
    ]));
  }

  async function openConversation(id, prefetched) {
    if (thread.id !== id) {
      thread.id = id;
      thread.messages = [];
      thread.typing = new Map();
      replace(byId('conversation-pane'), h('p', { class: 'placeholder' }, 'Loading…'));
    }
    const loaded = await (prefetched || fetchThread(id));
    if (!loaded || thread.id !== id) return;
    const [conversation, messages] = loaded;
    thread.conversation = conversation;
    thread.messages = messages.payload || [];
    drawConversation();
    performance.mark('conversation-ready');
    document.body.dataset.conversation = String(id);
    // Awaited by "mark unread", which must come after it.
    thread.seen = post(`/conversations/${id}/update_last_seen`).catch(() => {});
    loadContact(conversation);
  }

  async function loadContact(conversation) {
    const sender = conversation.meta && conversation.meta.sender;
    if (!sender) return;
    const answer = await attempt('Loading the contact', () => Promise.all([
      get(`/contacts/${sender.id}`), get(`/contacts/${sender.id}/conversations`),
    ]));
    if (!answer || thread.id !== conversation.id) return;
    thread.contact = { details: answer[0].payload, conversations: answer[1].payload || [] };
    const slot = byId('contact-panel');
    if (slot) replace(slot, contactPanel());
  }

  async function act(what, path, body) {
    const id = thread.id;
    const answer = await attempt(what, () => post(`/conversations/${id}/${path}`, body));
    if (answer === undefined) return;
    toast(`${what}: done`);
    await reloadConversation(id);
    refreshListSoon();
  }

  async function reloadConversation(id) {
    const conversation = await attempt('Refreshing', () => get(`/conversations/${id}`));
    if (conversation && thread.id === id) {
      thread.conversation = conversation;
      drawHeader();
    }
  }

  function actions(c) {
    const resolved = c.status === 'resolved';
    const labels = new Set(c.labels || []);
    const assigneeId = c.meta && c.meta.assignee ? c.meta.assignee.id : '';
    const teamId = c.meta && c.meta.team ? c.meta.team.id : '';
    const snoozeDate = h('input', { type: 'datetime-local', id: 'snooze-date', 'aria-label': 'Snooze until', hidden: true });
    snoozeDate.addEventListener('change', () => {
      const t = Math.floor(new Date(snoozeDate.value).getTime() / 1000);
      if (t) act('Snooze', 'toggle_status', { status: 'snoozed', snoozed_until: t });
    });
    return h('div', { class: 'actions', role: 'toolbar', 'aria-label': 'Conversation actions' },
      h('button', {
        type: 'button', id: 'action-resolve', class: 'primary', 'aria-keyshortcuts': 'e',
        onclick: () => act(resolved ? 'Reopen' : 'Resolve', 'toggle_status', { status: resolved ? 'open' : 'resolved' }),
      }, resolved ? 'Reopen' : 'Resolve'),
      h('select', {
        id: 'action-snooze', 'aria-label': 'Snooze',
        onchange: (e) => {
          const choice = e.target.value;
          e.target.value = '';
          if (choice === 'date') { snoozeDate.hidden = false; snoozeDate.focus(); return; }
          if (choice === 'next_reply') act('Snooze', 'toggle_status', { status: 'snoozed' });
          else if (choice) act('Snooze', 'toggle_status', { status: 'snoozed', snoozed_until: snoozeUntil(choice) });
        },
      }, SNOOZES.map(([v, t]) => option(v, t, ''))),
      snoozeDate,
      h('select', {
        id: 'action-priority', 'aria-label': 'Priority',
        onchange: (e) => act('Priority', 'toggle_priority', { priority: e.target.value || 'none' }),
      }, PRIORITIES.map(([v, t]) => option(v, `Priority: ${t}`, c.priority || ''))),
      h('select', {
        id: 'action-assignee', 'aria-label': 'Assigned agent',
        onchange: (e) => act('Assign', 'assignments', { assignee_id: e.target.value ? Number(e.target.value) : null }),
      }, option('', 'Unassigned', assigneeId), catalogue.agents.map((a) => option(a.id, a.name, assigneeId))),
      h('select', {
        id: 'action-team', 'aria-label': 'Team',
        onchange: (e) => act('Team', 'assignments', { team_id: e.target.value ? Number(e.target.value) : null }),
      }, option('', 'No team', teamId), catalogue.teams.map((t) => option(t.id, t.name, teamId))),
      h('details', { class: 'menu', id: 'action-labels' },
        h('summary', {}, 'Labels'),
        h('fieldset', {},
          h('legend', {}, 'Labels'),
          catalogue.labels.map((l) => h('label', { class: 'check' },
            h('input', {
              type: 'checkbox', value: l.title, checked: labels.has(l.title),
              onchange: (e) => {
                if (e.target.checked) labels.add(l.title); else labels.delete(l.title);
                act('Labels', 'labels', { labels: [...labels] });
              },
            }), ' ', l.title)))),
      h('button', { type: 'button', id: 'action-mute', onclick: () => act(c.muted ? 'Unmute' : 'Mute', c.muted ? 'unmute' : 'mute') }, c.muted ? 'Unmute' : 'Mute'),
      h('button', { type: 'button', id: 'action-unread', onclick: async () => { await thread.seen; await act('Mark unread', 'unread'); go(listHash(list.params, null)); } }, 'Mark unread'),
      h('details', { class: 'menu', id: 'action-transcript' },
        h('summary', {}, 'Transcript'),
        transcriptForm()));
  }

  function transcriptForm() {
    const email = h('input', { type: 'email', id: 'transcript-email', required: true, 'aria-label': 'Send the transcript to' });
    const form = h('form', { class: 'inline' }, email, h('button', { type: 'submit', id: 'transcript-send' }, 'Send'));
    form.addEventListener('submit', (e) => { e.preventDefault(); act('Transcript', 'transcript', { email: email.value }); });
    return form;
  }

  function header(c) {
    const sender = (c.meta && c.meta.sender) || {};
    return h('div', { class: 'conversation-head' },
      h('a', { class: 'back', href: listHash(list.params, null) }, '← Back'),
      h('h2', { id: 'conversation-title' }, sender.name || 'Contact', h('span', { class: 'subtle' }, ` #${c.id} · ${nameOf(catalogue.inboxes, c.inbox_id)}`)),
      h('p', { class: 'status-line' },
        h('span', { id: 'conversation-status', class: `status ${c.status}` }, c.status),
        c.snoozed_until ? ` until ${new Date(c.snoozed_until).toLocaleString()}` : '',
        c.muted ? h('span', { class: 'chip' }, 'muted') : null,
        c.priority ? h('span', { class: `priority ${c.priority}` }, c.priority) : null,
        (c.labels || []).map((l) => h('span', { class: 'chip label' }, l))),
      actions(c));
  }

  function drawHeader() {
    const slot = byId('conversation-head');
    if (slot && thread.conversation) replace(slot, header(thread.conversation));
    const attrs = byId('conversation-attributes');
    if (attrs && thread.conversation) replace(attrs, attributeEditor(thread.conversation));
  }

  /** Only the server's own paths and web addresses become links: never `javascript:` or `data:`. */
  function safeUrl(url) {
    if (typeof url !== 'string') return '';
    if (url.startsWith('/') && !url.startsWith('//')) return url;
    return /^https?:\/\//i.test(url) ? url : '';
  }

  function attachment(a) {
    const url = safeUrl(a.data_url);
    const name = url.split('/').pop() || 'file';
    if (a.file_type === 'image') {
      return h('a', { class: 'attachment image', href: url, target: '_blank', rel: 'noopener' },
        h('img', { src: safeUrl(a.thumb_url) || url, alt: `Image ${name}`, loading: 'lazy' }));
    }
    return h('a', { class: 'attachment file', href: url, target: '_blank', rel: 'noopener', download: name }, `📎 ${name}`);
  }

  function messageKind(m) {
    if (m.message_type === 2 || m.message_type === 'activity') return 'activity';
    if (m.private) return 'private';
    if (m.message_type === 0 || m.message_type === 'incoming') return 'incoming';
    return 'outgoing';
  }

  function message(m) {
    const kind = messageKind(m);
    if (kind === 'activity') {
      return h('li', { class: 'message activity', dataset: { id: m.id } },
        h('p', { class: 'content' }, m.content || ''), h('time', { class: 'time', title: fullTime(m.created_at) }, when(m.created_at)));
    }
    const sender = m.sender || {};
    return h('li', { class: `message ${kind}`, dataset: { id: m.id } },
      h('div', { class: 'bubble' },
        h('p', { class: 'who' },
          h('span', { class: 'sender' }, sender.available_name || sender.name || (kind === 'incoming' ? 'Contact' : 'Bot')),
          kind === 'private' ? h('span', { class: 'chip' }, 'private note') : null,
          h('time', { class: 'time', title: fullTime(m.created_at) }, fullTime(m.created_at))),
        m.content ? h('p', { class: 'content' }, m.content) : null,
        (m.attachments || []).length ? h('div', { class: 'attachments' }, m.attachments.map(attachment)) : null));
  }

  function drawThread() {
    const ul = byId('messages');
    if (!ul) return;
    const nearBottom = ul.scrollHeight - ul.scrollTop - ul.clientHeight < 80;
    replace(ul, thread.messages.map(message));
    if (nearBottom || ul.dataset.scrolled !== '1') {
      ul.scrollTop = ul.scrollHeight;
      ul.dataset.scrolled = '1';
    }
  }

  function drawTyping() {
    const el = byId('typing');
    if (!el) return;
    const names = [...thread.typing.values()];
    el.textContent = names.length ? `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} typing…` : '';
  }

  async function loadOlder() {
    const first = thread.messages[0];
    if (!first) return;
    const id = thread.id;
    const answer = await attempt('Loading older messages', () => get(`/conversations/${id}/messages?before=${first.id}`));
    if (!answer || thread.id !== id) return;
    const older = answer.payload || [];
    if (!older.length) { byId('older').hidden = true; return; }
    thread.messages = older.concat(thread.messages);
    const ul = byId('messages');
    const keep = ul.scrollHeight - ul.scrollTop;
    drawThread();
    ul.scrollTop = ul.scrollHeight - keep;
  }

  function composer() {
    const text = h('textarea', { id: 'composer-text', rows: 3, placeholder: 'Reply to the contact (Ctrl+Enter sends)', 'aria-label': 'Message' });
    const isPrivate = h('input', { type: 'checkbox', id: 'composer-private' });
    const files = h('input', { type: 'file', id: 'composer-files', multiple: true, 'aria-label': 'Attach files' });
    const form = h('form', { class: 'composer', id: 'composer' },
      h('div', { class: 'composer-mode' },
        h('label', { class: 'check' }, isPrivate, ' Private note'),
        h('span', { id: 'typing', class: 'typing', 'aria-live': 'polite' })),
      text,
      h('div', { class: 'composer-bar' },
        files,
        h('button', { type: 'submit', id: 'composer-send', class: 'primary' }, 'Send')));
    const setMode = () => {
      form.classList.toggle('private', isPrivate.checked);
      text.placeholder = isPrivate.checked ? 'Private note, seen only by agents' : 'Reply to the contact (Ctrl+Enter sends)';
    };
    isPrivate.addEventListener('change', setMode);
    let typingOff = null;
    text.addEventListener('input', () => {
      const id = thread.id;
      if (!typingOff) post(`/conversations/${id}/toggle_typing_status`, { typing_status: 'on', is_private: isPrivate.checked }).catch(() => {});
      clearTimeout(typingOff);
      typingOff = setTimeout(() => {
        typingOff = null;
        post(`/conversations/${id}/toggle_typing_status`, { typing_status: 'off', is_private: isPrivate.checked }).catch(() => {});
      }, 2000);
    });
    text.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
      if (e.key === 'Escape') text.blur();
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const content = text.value.trim();
      if (!content && !files.files.length) return;
      const id = thread.id;
      let body;
      if (files.files.length) {
        body = new FormData();
        if (content) body.append('content', content);
        body.append('private', String(isPrivate.checked));
        body.append('message_type', 'outgoing');
        for (const f of files.files) body.append('attachments[]', f, f.name);
      } else body = { content, private: isPrivate.checked, message_type: 'outgoing' };
      const created = await attempt('Sending', () => post(`/conversations/${id}/messages`, body));
      if (!created) return;
      text.value = '';
      files.value = '';
      clearTimeout(typingOff);
      typingOff = null;
      addMessage(created);
      refreshListSoon();
    });
    return form;
  }

  function addMessage(m) {
    const at = thread.messages.findIndex((x) => x.id === m.id);
    if (at >= 0) thread.messages[at] = m;
    else thread.messages.push(m);
    drawThread();
  }

  function attributeEditor(c) {
    const attrs = { ...(c.custom_attributes || {}) };
    const definitions = catalogue.attributes.filter((a) => a.attribute_model === 'conversation_attribute');
    const keys = new Set([...definitions.map((d) => d.attribute_key), ...Object.keys(attrs)]);
    const inputs = [...keys].map((key) => {
      const d = definitions.find((x) => x.attribute_key === key);
      return h('label', { class: 'field' }, h('span', { class: 'label' }, d ? d.attribute_display_name : key),
        h('input', { dataset: { key }, value: attrs[key] === undefined || attrs[key] === null ? '' : String(attrs[key]) }));
    });
    const form = h('form', { id: 'attributes-form', class: 'attributes' }, h('h3', {}, 'Conversation attributes'), inputs,
      h('button', { type: 'submit', id: 'attributes-save' }, 'Save attributes'));
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const values = {};
      for (const input of form.querySelectorAll('input[data-key]')) {
        if (input.value !== '') {
          const d = definitions.find((x) => x.attribute_key === input.dataset.key);
          values[input.dataset.key] = d && d.attribute_display_type === 'number' && input.value.trim() !== '' && !Number.isNaN(Number(input.value)) ? Number(input.value) : input.value;
        }
      }
      act('Attributes', 'custom_attributes', { custom_attributes: values });
    });
    return form;
  }

  function contactPanel() {
    const contact = thread.contact && thread.contact.details;
    if (!contact) return h('p', { class: 'placeholder' }, 'Loading contact…');
    const rows = [['Email', contact.email], ['Phone', contact.phone_number], ['Identifier', contact.identifier]]
      .filter(([, v]) => v);
    const attrs = Object.entries(contact.custom_attributes || {});
    const earlier = thread.contact.conversations.filter((c) => c.id !== thread.id);
    return h('div', {},
      h('h3', { id: 'contact-name' }, contact.name || `Contact ${contact.id}`),
      h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))])),
      attrs.length ? [h('h4', {}, 'Contact attributes'),
        h('dl', { class: 'facts' }, attrs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v))]))] : null,
      h('h4', {}, 'Earlier conversations'),
      earlier.length
        ? h('ul', { class: 'earlier', id: 'earlier-conversations' }, earlier.map((c) => h('li', {},
          h('a', { href: listHash(list.params, c.id) }, `#${c.id} · ${c.status} · ${when(c.last_activity_at)}`))))
        : h('p', { class: 'subtle' }, 'None.'));
  }

  function drawConversation() {
    const c = thread.conversation;
    const pane = byId('conversation-pane');
    if (!pane || !c) return;
    replace(pane,
      h('div', { id: 'conversation-head' }, header(c)),
      h('div', { class: 'conversation-body' },
        h('div', { class: 'thread' },
          h('button', { type: 'button', id: 'older', class: 'link', onclick: loadOlder, hidden: thread.messages.length < 20 }, 'Older messages'),
          h('ul', { id: 'messages', class: 'messages', 'aria-label': 'Messages', tabindex: 0 }),
          composer()),
        h('aside', { class: 'side', 'aria-label': 'Contact and attributes' },
          h('section', { id: 'contact-panel' }, contactPanel()),
          h('section', { id: 'conversation-attributes' }, attributeEditor(c)))));
    drawThread();
    drawTyping();
  }

  // ---------------------------------------------------------------- live updates
  const cable = {
    socket: null,
    closed: true,
    retry: 1000,
    presence: null,
    confirmed: false,
    identifier() {
      return JSON.stringify({
        channel: 'RoomChannel', pubsub_token: session.profile.pubsub_token,
        account_id: session.accountId, user_id: session.userId,
      });
    },
    connect() {
      this.close();
      this.closed = false;
      const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/cable`;
      const socket = new WebSocket(url, ['actioncable-v1-json']);
      this.socket = socket;
      socket.addEventListener('open', () => {
        this.retry = 1000;
        socket.send(JSON.stringify({ command: 'subscribe', identifier: this.identifier() }));
      });
      socket.addEventListener('message', (e) => this.receive(e.data));
      socket.addEventListener('close', () => {
        if (this.closed || this.socket !== socket) return;
        document.body.dataset.cable = 'closed';
        setTimeout(() => { if (!this.closed) this.connect(); }, this.retry);
        this.retry = Math.min(this.retry * 2, 30000);
      });
      clearInterval(this.presence);
      this.presence = setInterval(() => this.send('update_presence'), 20000);
    },
    send(action) {
      if (this.socket && this.socket.readyState === WebSocket.OPEN) {
        this.socket.send(JSON.stringify({ command: 'message', identifier: this.identifier(), data: JSON.stringify({ action }) }));
      }
    },
    close() {
      this.closed = true;
      clearInterval(this.presence);
      if (this.socket) this.socket.close();
      this.socket = null;
    },
    receive(text) {
      let frame;
      try { frame = JSON.parse(text); } catch { return; }
      if (frame.type === 'confirm_subscription') {
        document.body.dataset.cable = 'live';
        // After a reconnection, what was missed meanwhile is picked up by a fresh read.
        if (this.confirmed) {
          refreshListSoon();
          if (thread.id) openConversation(thread.id);
        }
        this.confirmed = true;
        return;
      }
      if (frame.type === 'disconnect') return;
      const event = frame.message;
      if (!event || typeof event !== 'object' || !event.event) return;
      live(event.event, event.data || {});
    },
  };

  function live(name, data) {
    if (name === 'message.created' || name === 'message.updated') {
      if (data.conversation_id === thread.id) addMessage(data);
      refreshListSoon();
    } else if (name.startsWith('conversation.typing_')) {
      const conversationId = data.conversation && data.conversation.id;
      const user = data.user || {};
      if (conversationId !== thread.id || (user.id === session.userId && user.type !== 'contact')) return;
      const key = `${user.type || ''}:${user.id}`;
      if (name === 'conversation.typing_on') thread.typing.set(key, user.name || 'Someone');
      else thread.typing.delete(key);
      drawTyping();
    } else if (name.startsWith('conversation.') || name === 'assignee.changed' || name === 'team.changed') {
      if (data.id === thread.id) reloadConversation(thread.id);
      refreshListSoon();
    } else if (name === 'contact.updated' && thread.contact && thread.contact.details && data.id === thread.contact.details.id) {
      loadContact(thread.conversation);
    }
  }

  // ---------------------------------------------------------------- administration
  const SECTIONS = {
    agents: {
      title: 'Agents', path: '/agents', items: (r) => r,
      columns: [['name', 'Name'], ['email', 'Email'], ['role', 'Role'], ['availability_status', 'Availability']],
      fields: [
        { key: 'name', label: 'Name', required: true },
        { key: 'email', label: 'Email', type: 'email', required: true, createOnly: true },
        { key: 'role', label: 'Role', options: ['agent', 'administrator'] },
        { key: 'availability', label: 'Availability', options: ['online', 'busy', 'offline'], from: 'availability_status' },
      ],
      extra: (item) => [
        h('button', { type: 'button', class: 'reset-password', onclick: () => attempt('Reset password', async () => { await post(`/agents/${item.id}/reset_password`); toast(`A set-password link was mailed to ${item.email}`); }) }, 'Mail a password link'),
        passwordSetter(item),
      ],
    },
    inboxes: {
      title: 'Inboxes', path: '/inboxes', items: (r) => r.payload,
      columns: [['name', 'Name'], ['webhook_url', 'Webhook URL'], ['inbox_identifier', 'Identifier']],
      fields: [
        { key: 'name', label: 'Name', required: true },
        { key: 'webhook_url', label: 'Webhook URL', type: 'url', channel: true },
        { key: 'hmac_mandatory', label: 'Require verified identity (HMAC)', type: 'checkbox', channel: true },
      ],
      details: [['inbox_identifier', 'Identifier'], ['secret', 'Webhook secret'], ['hmac_token', 'HMAC token']],
      extra: (item) => [
        membersEditor('Agents of this inbox', `/inbox_members/${item.id}`, (r) => r.payload,
          (ids) => patch('/inbox_members', { inbox_id: item.id, user_ids: ids })),
        h('button', { type: 'button', onclick: () => adminAction('Reset secret', `/inboxes/${item.id}/reset_secret`) }, 'New webhook secret'),
        h('button', { type: 'button', onclick: () => adminAction('Rotate HMAC token', `/inboxes/${item.id}/rotate_hmac_token`) }, 'New HMAC token'),
      ],
    },
    teams: {
      title: 'Teams', path: '/teams', items: (r) => r,
      columns: [['name', 'Name'], ['description', 'Description']],
      fields: [
        { key: 'name', label: 'Name', required: true },
        { key: 'description', label: 'Description' },
        { key: 'allow_auto_assign', label: 'Allow auto-assignment', type: 'checkbox' },
      ],
      extra: (item) => [
        membersEditor('Agents of this team', `/teams/${item.id}/team_members`, (r) => r,
          (ids) => patch(`/teams/${item.id}/team_members`, { user_ids: ids })),
      ],
    },
    labels: {
      title: 'Labels', path: '/labels', items: (r) => r.payload,
      columns: [['title', 'Title'], ['description', 'Description'], ['color', 'Colour']],
      fields: [
        { key: 'title', label: 'Title', required: true },
        { key: 'description', label: 'Description' },
        { key: 'color', label: 'Colour', type: 'color' },
        { key: 'show_on_sidebar', label: 'Show on sidebar', type: 'checkbox' },
      ],
    },
    custom_attribute_definitions: {
      title: 'Custom attributes', path: '/custom_attribute_definitions', items: (r) => r,
      columns: [['attribute_display_name', 'Name'], ['attribute_key', 'Key'], ['attribute_display_type', 'Type'], ['attribute_model', 'Applies to']],
      fields: [
        { key: 'attribute_display_name', label: 'Name', required: true },
        { key: 'attribute_key', label: 'Key', required: true, createOnly: true },
        { key: 'attribute_display_type', label: 'Type', options: ['text', 'number', 'currency', 'percent', 'link', 'date', 'list', 'checkbox'] },
        { key: 'attribute_model', label: 'Applies to', options: ['conversation_attribute', 'contact_attribute'] },
        { key: 'attribute_description', label: 'Description' },
        { key: 'attribute_values', label: 'List values (comma separated)', list: true },
      ],
    },
    webhooks: {
      title: 'Webhooks', path: '/webhooks', items: (r) => r.payload.webhooks, wrap: 'webhook',
      columns: [['url', 'URL'], ['name', 'Name'], ['subscriptions', 'Events']],
      fields: [
        { key: 'url', label: 'URL', type: 'url', required: true },
        { key: 'name', label: 'Name' },
        {
          key: 'subscriptions', label: 'Events', many: [
            'conversation_created', 'conversation_status_changed', 'conversation_updated', 'contact_created',
            'contact_updated', 'conversation_typing_on', 'conversation_typing_off', 'message_created',
            'message_updated', 'webwidget_triggered', 'inbox_created', 'inbox_updated'],
        },
      ],
    },
    agent_bots: {
      title: 'Agent bots', path: '/agent_bots', items: (r) => r,
      columns: [['name', 'Name'], ['outgoing_url', 'Outgoing URL']],
      fields: [
        { key: 'name', label: 'Name', required: true },
        { key: 'description', label: 'Description' },
        { key: 'outgoing_url', label: 'Outgoing URL', type: 'url' },
      ],
      details: [['access_token', 'Access token'], ['secret', 'Secret']],
      extra: (item) => [
        h('button', { type: 'button', onclick: () => adminAction('New access token', `/agent_bots/${item.id}/reset_access_token`) }, 'New access token'),
      ],
    },
  };

  /** A checkbox per agent of the account, ticked for the members; saving replaces the set. */
  function membersEditor(title, path, members, save) {
    const box = h('fieldset', { class: 'many members', id: 'members' }, h('legend', {}, title), h('span', { class: 'subtle' }, 'Loading…'));
    const form = h('form', { class: 'members-form' }, box, h('button', { type: 'submit', id: 'members-save' }, 'Save members'));
    get(path).then((answer) => {
      const ids = new Set((members(answer) || []).map((a) => a.id));
      replace(box, h('legend', {}, title), catalogue.agents.map((a) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: a.id, checked: ids.has(a.id) }), ' ', a.name)));
    }).catch((e) => toast(`Loading members: ${e.message}`, 'error'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const ids = [...box.querySelectorAll('input:checked')].map((i) => Number(i.value));
      const done = await attempt('Members', () => save(ids));
      if (done !== undefined) toast('Members saved');
    });
    return form;
  }

  function passwordSetter(item) {
    const input = h('input', { type: 'password', autocomplete: 'new-password', minlength: 8, 'aria-label': `New password for ${item.name}`, class: 'set-password' });
    const form = h('form', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Set password'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const done = await attempt('Set password', () => post(`/agents/${item.id}/password`, { password: input.value }));
      if (done !== undefined) { input.value = ''; toast(`Password set for ${item.name}`); }
    });
    return form;
  }

  async function adminAction(what, path) {
    const done = await attempt(what, () => post(path));
    if (done !== undefined) { toast(`${what}: done`); renderAdmin(admin.section, admin.editing); }
  }

  const admin = { section: 'agents', editing: null };

  function cell(value) {
    if (Array.isArray(value)) return value.join(', ');
    if (value === null || value === undefined) return '';
    return String(value);
  }

  function adminForm(spec, item) {
    const fields = spec.fields.filter((f) => !(item && f.createOnly));
    const inputs = fields.map((f) => {
      const current = item ? item[f.from || f.key] : undefined;
      let input;
      if (f.options) {
        input = h('select', { name: f.key }, f.options.map((o) => option(o, o, current ?? f.options[0])));
      } else if (f.many) {
        const chosen = new Set(current || []);
        input = h('fieldset', { class: 'many', dataset: { key: f.key } }, h('legend', {}, f.label),
          f.many.map((name) => h('label', { class: 'check' }, h('input', { type: 'checkbox', value: name, checked: chosen.has(name) }), ' ', name)));
        return input;
      } else if (f.type === 'checkbox') {
        return h('label', { class: 'check' }, h('input', { type: 'checkbox', name: f.key, checked: !!current }), ' ', f.label);
      } else {
        input = h('input', {
          name: f.key, type: f.type || 'text', required: f.required,
          value: f.list ? (current || []).join(', ') : current ?? (f.type === 'color' ? '#1f93ff' : ''),
        });
      }
      return h('label', { class: 'field' }, h('span', { class: 'label' }, f.label), input);
    });
    const error = h('p', { class: 'error', role: 'alert' });
    const form = h('form', { id: 'admin-form', class: 'card' },
      h('h3', {}, item ? `Edit ${item.name || item.title || item.attribute_display_name || item.url}` : `New ${spec.title.replace(/s$/, '').toLowerCase()}`),
      inputs, error,
      h('div', { class: 'buttons' },
        item ? h('button', { type: 'button', onclick: () => { admin.editing = null; renderAdmin(admin.section); } }, 'Cancel') : null,
        h('button', { type: 'submit', class: 'primary', id: 'admin-save' }, item ? 'Save' : 'Create')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const body = {};
      const channel = {};
      for (const f of fields) {
        let value;
        if (f.many) value = [...form.querySelectorAll(`fieldset[data-key="${f.key}"] input:checked`)].map((i) => i.value);
        else {
          const input = form.elements.namedItem(f.key);
          if (f.type === 'checkbox') value = input.checked;
          else if (f.list) value = input.value.split(',').map((s) => s.trim()).filter(Boolean);
          else value = input.value;
        }
        if (value === '' && f.type === 'url') value = null;
        if (f.channel) channel[f.key] = value;
        else body[f.key] = value;
      }
      if (Object.keys(channel).length) body.channel = { type: 'api', ...channel };
      const sent = spec.wrap ? { [spec.wrap]: body } : body;
      try {
        if (item) await patch(`${spec.path}/${item.id}`, sent);
        else await post(spec.path, sent);
        admin.editing = null;
        toast(item ? 'Saved' : 'Created');
        await loadCatalogue();
        renderAdmin(admin.section);
      } catch (failure) {
        error.textContent = failure.message;
      }
    });
    return form;
  }

  async function renderAdmin(section, editing) {
    if (!isAdministrator()) { go('#/conversations'); return; }
    await session.catalogue;
    const spec = SECTIONS[section] || SECTIONS.agents;
    admin.section = SECTIONS[section] ? section : 'agents';
    admin.editing = editing || null;
    const answer = await attempt(`Loading ${spec.title.toLowerCase()}`, () => get(spec.path));
    const items = answer ? spec.items(answer) || [] : [];
    const editingItem = items.find((i) => i.id === admin.editing) || null;
    const table = h('table', { id: 'admin-table' },
      h('caption', {}, spec.title),
      h('thead', {}, h('tr', {}, spec.columns.map(([, label]) => h('th', { scope: 'col' }, label)), h('th', { scope: 'col' }, 'Actions'))),
      h('tbody', {}, items.map((item) => h('tr', { dataset: { id: item.id } },
        spec.columns.map(([key]) => h('td', {}, cell(item[key]))),
        h('td', { class: 'row-actions' },
          h('button', { type: 'button', class: 'edit', onclick: () => renderAdmin(admin.section, item.id) }, 'Edit'),
          h('button', {
            type: 'button', class: 'delete danger',
            onclick: async () => {
              if (!window.confirm(`Delete ${item.name || item.title || item.url || item.attribute_display_name}?`)) return;
              const done = await attempt('Delete', () => remove(`${spec.path}/${item.id}`));
              if (done !== undefined) { await loadCatalogue(); renderAdmin(admin.section); }
            },
          }, 'Delete'))))));
    const details = editingItem && spec.details
      ? h('dl', { class: 'facts secrets', id: 'admin-details' }, spec.details.map(([k, label]) => [h('dt', {}, label), h('dd', {}, h('code', {}, cell(editingItem[k])))]))
      : null;
    const extra = editingItem && spec.extra ? h('div', { class: 'buttons', id: 'admin-extra' }, spec.extra(editingItem)) : null;
    const main = h('main', { class: 'admin' },
      h('nav', { id: 'admin-nav', 'aria-label': 'Settings' },
        h('ul', {}, Object.entries(SECTIONS).map(([key, s]) => h('li', {},
          h('a', { href: `#/admin/${key}`, dataset: { section: key }, 'aria-current': key === admin.section ? 'page' : null }, s.title))))),
      h('section', { class: 'admin-body' }, h('div', { class: 'table-wrap' }, table), details, extra, adminForm(spec, editingItem)));
    frame('admin', main);
  }

  // ---------------------------------------------------------------- keyboard
  const SHORTCUTS = [
    ['j', 'Next conversation'], ['k', 'Previous conversation'], ['r', 'Reply'], ['n', 'Private note'],
    ['e', 'Resolve or reopen'], ['/', 'Search'], ['Escape', 'Leave a text box'], ['?', 'These shortcuts'],
  ];

  function stepConversation(delta) {
    if (!list.rows.length) return;
    const at = list.rows.findIndex((r) => r.id === list.openId);
    const next = list.rows[Math.min(list.rows.length - 1, Math.max(0, at < 0 ? 0 : at + delta))];
    if (next) go(listHash(list.params, next.id));
  }

  function showShortcuts() {
    const dialog = h('dialog', { id: 'shortcuts', 'aria-labelledby': 'shortcuts-title' },
      h('h2', { id: 'shortcuts-title' }, 'Keyboard shortcuts'),
      h('dl', { class: 'facts' }, SHORTCUTS.map(([k, t]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, t)])),
      h('form', { method: 'dialog' }, h('button', { type: 'submit' }, 'Close')));
    dialog.addEventListener('close', () => dialog.remove());
    document.body.append(dialog);
    dialog.showModal();
  }

  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || !session.csrf) return;
    const target = e.target;
    if (target && (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName))) return;
    if (document.querySelector('dialog[open]')) return;
    const composerText = byId('composer-text');
    switch (e.key) {
      case 'j': stepConversation(1); break;
      case 'k': stepConversation(-1); break;
      case 'r':
        if (!composerText) return;
        byId('composer-private').checked = false;
        byId('composer-private').dispatchEvent(new Event('change'));
        composerText.focus();
        break;
      case 'n':
        if (!composerText) return;
        byId('composer-private').checked = true;
        byId('composer-private').dispatchEvent(new Event('change'));
        composerText.focus();
        break;
      case 'e': if (byId('action-resolve')) byId('action-resolve').click(); break;
      case '/': if (byId('search')) byId('search').focus(); break;
      case '?': showShortcuts(); break;
      default: return;
    }
    e.preventDefault();
  });

  // ---------------------------------------------------------------- start
  let rendering = Promise.resolve();
  function render() {
    rendering = rendering.then(renderNow, renderNow);
    return rendering;
  }

  async function renderNow() {
    const { parts, params } = route();
    if (parts[0] === 'password') return renderSetPassword(params);
    if (!session.csrf) {
      try {
        await startSession(await api('GET', '/auth/session'));
      } catch {
        return renderSignIn();
      }
    }
    if (parts[0] === 'login') return go('#/conversations');
    if (parts[0] === 'admin') return renderAdmin(parts[1] || 'agents');
    return renderInbox(parts, params);
  }

  window.addEventListener('hashchange', render);
  render();
})();
