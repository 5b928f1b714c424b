/**
 * The live map page: `?event=<id>` (default: the latest public live event). The course comes
 * from Directus REST, positions from the gateway's `/live` WebSocket, stage times and penalties
 * from Directus's realtime WebSocket when logged in (Directus's WebSocket needs a token), or
 * from REST every 5 s when anonymous. Logging in (Directus email/password) gives a token that
 * goes to /live in its first `auth` message and to Directus; it is refreshed a minute before
 * it expires.
 */
import * as L from '/vendor/leaflet/leaflet-src.esm.js';
import { DirectusRealtime, DirectusRest } from './directus.js';
import { LiveSocket } from './live-socket.js';
import { courseLayer } from './course-layer.js';
import { renderEntries } from './entry-list.js';

const ANONYMOUS_POLL_MS = 5_000;
const TRAIL_POINTS = 120;
const SESSION_KEY = 'trm.refresh_token';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** Directus as the browser sees it: a loopback URL means "this host" when the page is remote. */
function reachable(url) {
  const u = new URL(url);
  const loopback = ['127.0.0.1', 'localhost', '[::1]'];
  if (loopback.includes(u.hostname) && !loopback.includes(location.hostname)) u.hostname = location.hostname;
  return u.href.replace(/\/+$/, '');
}

const config = await (await fetch('/config.json')).json();
const rest = new DirectusRest(reachable(config.directusUrl));

const state = {
  /** @type {number | undefined} */ eventId: undefined,
  /** @type {Map<number, { id: number, number: number, crew: string, category: string | null }>} */ entries: new Map(),
  /** @type {Map<number, { code: string, name: string, sequence: number, status: string }>} */ stages: new Map(),
  /** @type {Map<string, any>} */ stageTimes: new Map(),
  /** @type {Map<string, any>} */ penalties: new Map(),
  /** @type {Map<number, import('./live-socket.js').Position>} */ positions: new Map(),
};

/** @type {{ accessToken: string, refreshToken: string, expiresAtMs: number } | undefined} */
let tokens;
let refreshTimer = 0;
/** what follows the current event; replaced on login/logout */
let follow = { live: /** @type {LiveSocket | undefined} */ (undefined), realtime: /** @type {DirectusRealtime | undefined} */ (undefined), pollTimer: 0 };

// --- map -------------------------------------------------------------------------------------

const map = L.map('map', { zoomSnap: 0.25, preferCanvas: false });
map.attributionControl.setPrefix('Leaflet · no base map (offline)');
L.control.scale({ imperial: false }).addTo(map);
map.setView([41.3, 19.85], 12);
let course = L.featureGroup().addTo(map);
/** @type {Map<number, { marker: L.Marker, trail: L.Polyline }>} */
const markers = new Map();

function markerFor(p) {
  let m = markers.get(p.entry);
  if (m) return m;
  const category = state.entries.get(p.entry)?.category ?? 'none';
  const icon = L.divIcon({ className: `entry-marker cat-${category}`, html: String(p.number), iconSize: [26, 26] });
  const marker = L.marker([p.lat, p.lon], { icon, title: `#${p.number} ${p.crew ?? ''}`, riseOnHover: true }).addTo(map);
  const trail = L.polyline([], { className: 'trail', color: getComputedStyle(document.documentElement).getPropertyValue(`--${category}`).trim() || '#495057', weight: 6, opacity: 0.45, interactive: false }).addTo(map);
  m = { marker, trail };
  markers.set(p.entry, m);
  return m;
}

/** @param {import('./live-socket.js').Position[]} list */
function onPositions(list) {
  for (const p of list) {
    if (p.event !== state.eventId) continue;
    const held = state.positions.get(p.entry);
    if (held && held.ts >= p.ts) continue; // the snapshot may lag the stream: keep the newest
    state.positions.set(p.entry, p);
    const { marker, trail } = markerFor(p);
    marker.setLatLng([p.lat, p.lon]);
    const el = marker.getElement();
    if (el) Object.assign(el.dataset, { entry: String(p.entry), number: String(p.number), lat: String(p.lat), lon: String(p.lon), ts: String(p.ts) });
    const points = trail.getLatLngs();
    points.push(L.latLng(p.lat, p.lon));
    if (points.length > TRAIL_POINTS) points.splice(0, points.length - TRAIL_POINTS);
    trail.setLatLngs(points);
  }
  schedule();
}

// --- entry list ------------------------------------------------------------------------------

let scheduled = false;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    renderEntries(/** @type {HTMLTableSectionElement} */ ($('entries').querySelector('tbody')), state, Date.now());
  });
}
const STALE_AFTER_MS = 120_000;
setInterval(() => {
  schedule(); // the "… s ago" column
  // a device silent for two minutes (or a fix left from an earlier run) is drawn faded
  for (const [entry, { marker }] of markers) marker.getElement()?.classList.toggle('stale', Date.now() - (state.positions.get(entry)?.ts ?? 0) > STALE_AFTER_MS);
}, 1000);

$('entries').addEventListener('click', (e) => {
  const row = /** @type {HTMLElement} */ (e.target).closest('tr[data-entry]');
  const p = row && state.positions.get(Number(row.getAttribute('data-entry')));
  if (p) map.panTo([p.lat, p.lon]);
});

// --- status line -----------------------------------------------------------------------------

const statusParts = { live: '', results: '' };
function setStatus(part, text) {
  statusParts[part] = text;
  $('status').textContent = [statusParts.live, statusParts.results].filter(Boolean).join(' · ');
}

function showMessage(text) {
  $('message').textContent = text ?? '';
  $('message').hidden = !text;
}

// --- Directus data ---------------------------------------------------------------------------

async function resolveEventId() {
  const fromUrl = Number(new URLSearchParams(location.search).get('event'));
  if (Number.isInteger(fromUrl) && fromUrl > 0) return fromUrl;
  const [first] = await rest.items('events', { fields: ['id'], filter: { public_live: { _eq: true } }, sort: ['-starts_at'], limit: 1 });
  return first ? Number(first.id) : undefined;
}

async function loadEvent(eventId) {
  const event = await rest.request('GET', `/items/events/${eventId}?fields=id,name,public_live,status`);
  const byStage = { stage: { event: { _eq: eventId } } };
  const [stages, segments, geofences, waypoints, zones, entries] = await Promise.all([
    rest.items('stages', { fields: ['id', 'code', 'name', 'sequence', 'status'], filter: { event: { _eq: eventId } }, sort: ['sequence'] }),
    rest.items('segments', { fields: ['stage', 'name', 'route'], filter: byStage }),
    rest.items('geofences', { fields: ['stage', 'code', 'kind', 'geometry', 'radius_m'], filter: byStage }),
    rest.items('waypoints', { fields: ['stage', 'code', 'type', 'point', 'radius_m'], filter: byStage }),
    rest.items('speed_limit_zones', { fields: ['stage', 'code', 'geometry', 'start_line', 'end_line', 'limit_kmh'], filter: byStage }),
    rest.items('entries', { fields: ['id', 'number', 'crew', 'category.code'], filter: { event: { _eq: eventId } }, sort: ['number'] }),
  ]);
  $('event-name').textContent = event.name;
  document.title = `${event.name} · TRM live`;
  state.stages = new Map(stages.map((s) => [Number(s.id), s]));
  state.entries = new Map(entries.map((e) => [Number(e.id), { id: Number(e.id), number: e.number, crew: e.crew, category: e.category?.code ?? null }]));
  const current = stages.find((s) => s.status === 'running') ?? stages[stages.length - 1];
  $('stage-label').textContent = current ? `· ${current.code} ${current.name ?? ''}` : '';
  course.remove();
  course = courseLayer({ segments, geofences, waypoints, zones }).addTo(map);
  if (course.getLayers().length) map.fitBounds(course.getBounds(), { padding: [24, 24] });
  schedule();
}

const TIME_FIELDS = ['id', 'stage', 'entry', 'status', 'raw_ms', 'net_ms', 'total_ms', 'penalty_ms', 'position', 'finish_at'];
const PENALTY_FIELDS = ['id', 'stage', 'entry', 'amount_ms', 'effective_ms', 'exclusion', 'override'];

function applySubscription(uid, event, data) {
  const target = uid === 'stage_times' ? state.stageTimes : state.penalties;
  if (event === 'init') target.clear();
  if (event === 'delete') for (const id of data) target.delete(String(typeof id === 'object' ? id.id : id));
  else for (const row of data) target.set(String(row.id), { ...target.get(String(row.id)), ...row });
  schedule();
}

async function pollResults(eventId) {
  const [times, penalties] = await Promise.all([
    rest.items('stage_times', { fields: TIME_FIELDS, filter: { stage: { event: { _eq: eventId } } } }),
    rest.items('penalties', { fields: PENALTY_FIELDS, filter: { event: { _eq: eventId } } }),
  ]);
  applySubscription('stage_times', 'init', times);
  applySubscription('penalties', 'init', penalties);
}

// --- following an event ----------------------------------------------------------------------

function stopFollowing() {
  follow.live?.close();
  follow.realtime?.close();
  clearInterval(follow.pollTimer);
  follow = { live: undefined, realtime: undefined, pollTimer: 0 };
  for (const { marker, trail } of markers.values()) {
    marker.remove();
    trail.remove();
  }
  markers.clear();
  state.positions.clear();
  state.stageTimes.clear();
  state.penalties.clear();
}

async function start() {
  stopFollowing();
  showMessage('');
  rest.token = tokens?.accessToken;
  try {
    state.eventId = await resolveEventId();
    if (state.eventId === undefined) {
      $('event-name').textContent = 'no public event';
      return showMessage('There is no public live event. Log in, or open the page with ?event=<id>.');
    }
    await loadEvent(state.eventId);
  } catch (error) {
    const status = /** @type {any} */ (error).status;
    $('event-name').textContent = `event ${state.eventId ?? ''}`;
    return showMessage(status === 403 || status === 401 ? 'This event is not public: log in to follow it.' : `Directus: ${/** @type {Error} */ (error).message}`);
  }
  const eventId = state.eventId;
  follow.live = new LiveSocket({
    path: config.livePath,
    event: eventId,
    token: tokens?.accessToken,
    onPositions,
    onStatus: (text) => setStatus('live', text),
    onError(code, message) {
      if (code === 'TOKEN_EXPIRED' && tokens) return void refreshNow();
      showMessage(code === 'UNAUTHENTICATED' || code === 'FORBIDDEN' ? `Live positions: ${message}. Log in with an account of this event's organisation.` : `Live positions: ${code} ${message}`);
    },
  });
  if (tokens) {
    follow.realtime = new DirectusRealtime(rest.url, { token: tokens.accessToken, onSubscription: applySubscription, onStatus: (text) => setStatus('results', text) });
    follow.realtime.subscribe('stage_times', 'stage_times', { fields: TIME_FIELDS, filter: { stage: { event: { _eq: eventId } } } });
    follow.realtime.subscribe('penalties', 'penalties', { fields: PENALTY_FIELDS, filter: { event: { _eq: eventId } } });
  } else {
    const poll = () => pollResults(eventId).then(() => setStatus('results', `results: every ${ANONYMOUS_POLL_MS / 1000} s (anonymous)`), (e) => setStatus('results', `results: ${e.message}`));
    poll();
    follow.pollTimer = setInterval(poll, ANONYMOUS_POLL_MS);
  }
}

// --- login -----------------------------------------------------------------------------------

function useTokens(next) {
  tokens = next;
  clearTimeout(refreshTimer);
  if (next) {
    sessionStorage.setItem(SESSION_KEY, next.refreshToken);
    refreshTimer = setTimeout(refreshNow, Math.max(5_000, next.expiresAtMs - Date.now() - 60_000));
  } else sessionStorage.removeItem(SESSION_KEY);
  rest.token = next?.accessToken;
}

async function refreshNow() {
  if (!tokens) return;
  try {
    useTokens(await rest.refresh(tokens.refreshToken));
    follow.live?.setToken(tokens?.accessToken, { reconnect: false });
    if (tokens) follow.realtime?.setToken(tokens.accessToken);
  } catch {
    useTokens(undefined);
    showUser(undefined);
    await start();
  }
}

function showUser(me) {
  $('login').hidden = Boolean(me);
  $('user').hidden = !me;
  $('user-name').textContent = me ? [me.first_name, me.last_name].filter(Boolean).join(' ') || me.email : '';
}

async function signedIn() {
  const me = await rest.request('GET', '/users/me?fields=email,first_name,last_name');
  showUser(me);
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const email = /** @type {HTMLInputElement} */ ($('email')).value;
  const password = /** @type {HTMLInputElement} */ ($('password')).value;
  try {
    useTokens(await rest.login(email, password));
    /** @type {HTMLInputElement} */ ($('password')).value = '';
    await signedIn();
    await start();
  } catch (error) {
    showMessage(`Login failed: ${/** @type {Error} */ (error).message}`);
  }
});

$('logout').addEventListener('click', async () => {
  const refreshToken = tokens?.refreshToken;
  useTokens(undefined);
  showUser(undefined);
  if (refreshToken) rest.request('POST', '/auth/logout', { refresh_token: refreshToken, mode: 'json' }).catch(() => {});
  await start();
});

// a reload keeps the session of this tab
const stored = sessionStorage.getItem(SESSION_KEY);
if (stored) {
  try {
    useTokens(await rest.refresh(stored));
    await signedIn();
  } catch {
    useTokens(undefined);
  }
}
await start();
