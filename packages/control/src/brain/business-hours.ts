import { DateTime, IANAZone } from 'luxon';
import type { ScheduleInfo, ScheduleRule } from '../store/directory.js';

/** What a schedule says about an instant: open, closed (outside hours) or holiday. */
export type ScheduleState = 'open' | 'closed' | 'holiday';

export interface ScheduleVerdict {
  state: ScheduleState;
  /** Why: 'weekly', 'date', 'no-rules', or 'broken: ...' when the schedule failed open. */
  basis: string;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$|^24:00$/;

function minutes(hhmm: string): number {
  return Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
}

/** Local wall-clock minutes [start, end) of a window; `end` ≤ `start` means it runs past midnight. */
function inWindow(rule: ScheduleRule, minuteOfDay: number): boolean {
  if (rule.startTime === null || rule.endTime === null) return true;
  const start = minutes(rule.startTime);
  const end = minutes(rule.endTime);
  if (end > start) return minuteOfDay >= start && minuteOfDay < end;
  return minuteOfDay >= start || minuteOfDay < end;
}

function validRule(r: ScheduleRule): boolean {
  if (r.startTime !== null && !HHMM.test(r.startTime)) return false;
  if (r.endTime !== null && !HHMM.test(r.endTime)) return false;
  if (r.kind === 'weekly')
    return (
      r.weekday !== null &&
      r.weekday >= 1 &&
      r.weekday <= 7 &&
      r.startTime !== null &&
      r.endTime !== null
    );
  if (r.startDate === null) return false;
  return r.kind === 'date' || (r.endDate !== null && r.endDate >= r.startDate);
}

function dateRuleCovers(rule: ScheduleRule, isoDate: string): boolean {
  if (rule.kind === 'date') return rule.startDate === isoDate;
  if (rule.kind === 'date_range')
    return (
      rule.startDate !== null &&
      rule.endDate !== null &&
      isoDate >= rule.startDate &&
      isoDate <= rule.endDate
    );
  return false;
}

/**
 * Weekly windows match on the local weekday; an overnight window (end before start) matches from
 * its start on its weekday and, before its end, on the following day.
 */
function weeklyOpen(rules: readonly ScheduleRule[], local: DateTime): boolean {
  const minute = local.hour * 60 + local.minute;
  const weekday = local.weekday;
  const yesterday = weekday === 1 ? 7 : weekday - 1;
  for (const r of rules) {
    if (r.kind !== 'weekly' || r.startTime === null || r.endTime === null) continue;
    const start = minutes(r.startTime);
    const end = minutes(r.endTime);
    if (end > start) {
      if (r.weekday === weekday && minute >= start && minute < end) return true;
    } else {
      if (r.weekday === weekday && minute >= start) return true;
      if (r.weekday === yesterday && minute < end) return true;
    }
  }
  return false;
}

/**
 * Evaluate a schedule at an instant in its IANA zone (DST via luxon: windows are local wall time).
 * Date and date_range rules for the local day override the weekly rules: a closed one covering
 * the time makes it a holiday; open windows among them decide alone; when the day's rules are only
 * closed ones that do not cover the time, weekly rules apply. No rules, a bad zone or a bad rule
 * fail open.
 */
export function evaluateSchedule(
  schedule: ScheduleInfo | undefined,
  atMs: number,
): ScheduleVerdict {
  if (schedule === undefined) return { state: 'open', basis: 'broken: no schedule' };
  if (!IANAZone.isValidZone(schedule.timezone))
    return { state: 'open', basis: `broken: bad zone ${schedule.timezone}` };
  if (schedule.rules.length === 0) return { state: 'open', basis: 'no-rules' };
  if (!schedule.rules.every(validRule)) return { state: 'open', basis: 'broken: invalid rule' };
  const local = DateTime.fromMillis(atMs, { zone: schedule.timezone });
  const isoDate = local.toISODate();
  if (isoDate === null) return { state: 'open', basis: 'broken: bad instant' };
  const minute = local.hour * 60 + local.minute;
  const today = schedule.rules.filter((r) => r.kind !== 'weekly' && dateRuleCovers(r, isoDate));
  if (today.length > 0) {
    if (today.some((r) => r.isClosed && inWindow(r, minute)))
      return { state: 'holiday', basis: 'date' };
    const openWindows = today.filter((r) => !r.isClosed);
    if (openWindows.length > 0) {
      return {
        state: openWindows.some((r) => inWindow(r, minute)) ? 'open' : 'closed',
        basis: 'date',
      };
    }
  }
  return { state: weeklyOpen(schedule.rules, local) ? 'open' : 'closed', basis: 'weekly' };
}
