/**
 * The entry list: number, crew, the latest stage time (the stage_times row of the entry's
 * highest-sequence stage), the sum of its penalties, and its last live speed. Pure rendering
 * from the page's state; app.js calls render() after every change (throttled to a frame).
 */

/** @param {number | null | undefined} ms @returns {string} h:mm:ss.t or m:ss.t */
export function formatDuration(ms) {
  if (ms == null) return '';
  const tenths = Math.round(ms / 100);
  const h = Math.floor(tenths / 36_000);
  const m = Math.floor((tenths % 36_000) / 600);
  const s = Math.floor((tenths % 600) / 10);
  const t = tenths % 10;
  const mm = h > 0 ? String(m).padStart(2, '0') : String(m);
  return `${h > 0 ? `${h}:` : ''}${mm}:${String(s).padStart(2, '0')}.${t}`;
}

/** @param {string} text */
function escape(text) {
  return String(text ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * @typedef {{ id: number, number: number, crew: string, category: string | null }} Entry
 * @typedef {{ entries: Map<number, Entry>, stages: Map<number, { code: string, sequence: number }>,
 *   stageTimes: Map<string, any>, penalties: Map<string, any>,
 *   positions: Map<number, { speed: number, ts: number }> }} ListState
 */

/** @param {ListState} state @param {number} entryId */
function latestTime(state, entryId) {
  let best;
  for (const row of state.stageTimes.values()) {
    if (Number(row.entry) !== entryId) continue;
    const seq = state.stages.get(Number(row.stage))?.sequence ?? 0;
    if (!best || seq > best.seq) best = { seq, row };
  }
  return best?.row;
}

/** @param {ListState} state @param {number} entryId */
function penaltySum(state, entryId) {
  let ms = 0;
  let count = 0;
  let excluded = false;
  for (const p of state.penalties.values()) {
    if (Number(p.entry) !== entryId) continue;
    count++;
    if (p.exclusion) excluded = true;
    ms += p.effective_ms ?? p.amount_ms ?? 0;
  }
  return { ms, count, excluded };
}

/**
 * @param {HTMLTableSectionElement} tbody
 * @param {ListState} state
 * @param {number} nowMs
 */
export function renderEntries(tbody, state, nowMs) {
  const rows = [...state.entries.values()].map((e) => ({ e, time: latestTime(state, e.id), pen: penaltySum(state, e.id), pos: state.positions.get(e.id) }));
  // finished first by stage position (or time), then everyone else by number
  const key = (r) => r.time?.position ?? (r.time?.status === 'finished' ? 1e6 + (r.time.total_ms ?? r.time.net_ms ?? 0) / 1e3 : 1e12);
  rows.sort((a, b) => key(a) - key(b) || a.e.number - b.e.number);
  tbody.innerHTML = rows
    .map(({ e, time, pen, pos }) => {
      const stage = time ? state.stages.get(Number(time.stage))?.code ?? '' : '';
      // the stage time itself (net of neutralisations); penalties have their own column and
      // the total follows when the penalty evaluation has written it
      const ms = time ? time.net_ms ?? time.raw_ms : null;
      const total = time?.penalty_ms && time.total_ms != null && time.total_ms !== ms ? ` · total ${formatDuration(time.total_ms)}` : '';
      const timeCell = time
        ? `${ms != null ? `<span class="stage-time">${formatDuration(ms)}</span><br>` : ''}<span class="status">${escape(stage)} ${escape(time.status ?? '')}${escape(total)}</span>`
        : '<span class="status">—</span>';
      const penCell = pen.excluded ? 'EXCL' : pen.count ? `+${formatDuration(pen.ms)}` : '';
      const ageS = pos ? Math.max(0, Math.round((nowMs - pos.ts) / 1000)) : null;
      const speedCell = pos ? `${Math.round(pos.speed)} km/h <small>${ageS < 60 ? `${ageS} s` : `${Math.round(ageS / 60)} min`} ago</small>` : '';
      return `<tr data-entry="${e.id}" data-number="${e.number}">
        <td class="num"><span class="cat-${escape(e.category ?? 'none')}">${e.number}</span></td>
        <td class="crew">${escape(e.crew)}<br><small>${escape(e.category ?? '')}</small></td>
        <td class="time">${timeCell}</td>
        <td class="pen" title="${pen.count} penalties">${escape(penCell)}</td>
        <td class="speed">${speedCell}</td>
      </tr>`;
    })
    .join('');
}
