// strftime(3) in the C locale over a JS Date, for time("..."): bpftrace formats the wall-clock
// time of the event with the libc strftime in local time.

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const p2 = (n: number): string => String(n).padStart(2, '0');
const sp2 = (n: number): string => String(n).padStart(2, ' ');

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1)) / 86400000);
}

/** ISO 8601 week number and week-based year (%V, %G). */
function isoWeek(d: Date): { week: number; year: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const dow = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const year = t.getUTCFullYear();
  const week = Math.ceil(((t.getTime() - Date.UTC(year, 0, 1)) / 86400000 + 1) / 7);
  return { week, year };
}

function zoneOffset(d: Date): string {
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return (off < 0 ? '-' : '+') + p2(Math.floor(a / 60)) + p2(a % 60);
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName');
  return part?.value ?? '';
}

function verb(c: string, d: Date): string | undefined {
  const h = d.getHours();
  const h12 = h % 12 || 12;
  switch (c) {
    case 'a': return DAYS[d.getDay()].slice(0, 3);
    case 'A': return DAYS[d.getDay()];
    case 'b': case 'h': return MONTHS[d.getMonth()].slice(0, 3);
    case 'B': return MONTHS[d.getMonth()];
    case 'c': return strftime('%a %b %e %H:%M:%S %Y', d);
    case 'C': return p2(Math.floor(d.getFullYear() / 100));
    case 'd': return p2(d.getDate());
    case 'D': return strftime('%m/%d/%y', d);
    case 'e': return sp2(d.getDate());
    case 'F': return strftime('%Y-%m-%d', d);
    case 'g': return p2(isoWeek(d).year % 100);
    case 'G': return String(isoWeek(d).year);
    case 'H': return p2(h);
    case 'I': return p2(h12);
    case 'j': return String(dayOfYear(d) + 1).padStart(3, '0');
    case 'k': return sp2(h);
    case 'l': return sp2(h12);
    case 'm': return p2(d.getMonth() + 1);
    case 'M': return p2(d.getMinutes());
    case 'n': return '\n';
    case 'p': return h < 12 ? 'AM' : 'PM';
    case 'P': return h < 12 ? 'am' : 'pm';
    case 'r': return strftime('%I:%M:%S %p', d);
    case 'R': return strftime('%H:%M', d);
    case 's': return String(Math.floor(d.getTime() / 1000));
    case 'S': return p2(d.getSeconds());
    case 't': return '\t';
    case 'T': return strftime('%H:%M:%S', d);
    case 'u': return String(d.getDay() || 7);
    case 'U': return p2(Math.floor((dayOfYear(d) + 7 - d.getDay()) / 7));
    case 'V': return p2(isoWeek(d).week);
    case 'w': return String(d.getDay());
    case 'W': return p2(Math.floor((dayOfYear(d) + 7 - ((d.getDay() + 6) % 7)) / 7));
    case 'x': return strftime('%m/%d/%y', d);
    case 'X': return strftime('%H:%M:%S', d);
    case 'y': return p2(d.getFullYear() % 100);
    case 'Y': return String(d.getFullYear());
    case 'z': return zoneOffset(d);
    case 'Z': return zoneName(d);
    case '%': return '%';
    default: return undefined;
  }
}

/** Formats `d` in local time; unknown verbs are copied through as glibc does. */
export function strftime(fmt: string, d: Date): string {
  let out = '';
  for (let i = 0; i < fmt.length; i++) {
    if (fmt[i] !== '%' || i + 1 >= fmt.length) { out += fmt[i]; continue; }
    const r = verb(fmt[i + 1], d);
    out += r ?? fmt.slice(i, i + 2);
    i++;
  }
  return out;
}

/** bpftrace's default for time() without an argument. */
export const DEFAULT_TIME_FORMAT = '%H:%M:%S\n';
