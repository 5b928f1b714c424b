/**
 * How close the group's backlog is to the stream's cap. Pure. Backlog = entries not yet
 * delivered to the group (lag) + entries delivered but not acknowledged (pending): both are
 * lost if `XADD … MAXLEN ~` trims them, so both count against the cap.
 */

export interface GroupInfo {
  /** XINFO GROUPS `lag`; null when Redis cannot compute it (then the stream length bounds it) */
  lag: number | null;
  pending: number;
  /** XLEN */
  length: number;
}

export interface BacklogAssessment {
  backlog: number;
  /** backlog / cap, 0..1+ */
  ratio: number;
  degraded: boolean;
}

export function assessBacklog(info: GroupInfo, capEntries: number, warnPercent: number): BacklogAssessment {
  const undelivered = info.lag ?? info.length;
  const backlog = undelivered + info.pending;
  const ratio = capEntries > 0 ? backlog / capEntries : 0;
  return { backlog, ratio, degraded: ratio * 100 >= warnPercent };
}
