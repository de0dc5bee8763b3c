import { isIP } from 'node:net';

/** Kinds of personal data a column can look like. */
export type PersonalDataKind = 'email' | 'phone' | 'card' | 'iban' | 'ip';

const EMAIL = /^[^\s@<>()[\],;:"]+@[^\s@<>()[\],;:"]+\.[A-Za-z]{2,}$/;
const PHONE = /^\+?[\d\s().-]{7,22}$/;
const CARD = /^\d(?:[ -]?\d){12,18}$/;
const IBAN = /^[A-Z]{2}\d{2}[A-Z0-9]{11,30}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}/;

/** Luhn checksum of a digit string (payment card numbers pass it). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check: the rearranged IBAN read as a number is 1 modulo 97. */
export function ibanValid(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (const ch of moved) {
    const v = ch >= 'A' ? ch.charCodeAt(0) - 55 : ch.charCodeAt(0) - 48;
    rest = v > 9 ? (rest * 100 + v) % 97 : (rest * 10 + v) % 97;
  }
  return rest === 1;
}

/** What kind of personal data one value is, if any. */
export function personalDataKind(raw: string): PersonalDataKind | undefined {
  const value = raw.trim();
  if (value.length < 3 || value.length > 254) return undefined;
  if (value.includes('@')) return EMAIL.test(value) ? 'email' : undefined;
  if (isIP(value)) return 'ip';
  const compact = value.replace(/[\s-]/g, '');
  if (/^[A-Za-z]{2}\d{2}/.test(compact) && IBAN.test(compact.toUpperCase()) && ibanValid(compact.toUpperCase())) return 'iban';
  if (CARD.test(value) && luhnValid(compact)) return 'card';
  if (PHONE.test(value) && !ISO_DATE.test(value) && !Number.isFinite(Number(value))) {
    const digits = value.replace(/\D/g, '').length;
    if (digits >= 7 && digits <= 15) return 'phone';
  }
  return undefined;
}

/** Counts per kind over the values of one column seen so far. */
export class PersonalDataScan {
  /** Enough values to judge a column; later ones are not looked at. */
  static readonly LIMIT = 1000;
  /** A column is personal data when at least this share of the looked-at values are. */
  static readonly SHARE = 0.5;
  private seen = 0;
  private readonly counts = new Map<PersonalDataKind, number>();
  private readonly examples = new Map<PersonalDataKind, string>();

  add(value: string): void {
    if (this.seen >= PersonalDataScan.LIMIT) return;
    this.seen++;
    const kind = personalDataKind(value);
    if (!kind) return;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (!this.examples.has(kind)) this.examples.set(kind, mask(value));
  }

  /** The kind this column holds, with the share and a masked example; undefined when it holds none. */
  finding(): { kind: PersonalDataKind; share: number; example: string } | undefined {
    let best: [PersonalDataKind, number] | undefined;
    for (const entry of this.counts) if (!best || entry[1] > best[1]) best = entry;
    if (!best || best[1] / this.seen < PersonalDataScan.SHARE) return undefined;
    return { kind: best[0], share: best[1] / this.seen, example: this.examples.get(best[0])! };
  }
}

/** Keeps the shape of a value, hides most of it: reports must not spread what they warn about. */
export function mask(value: string): string {
  const v = value.trim();
  const keep = Math.min(2, Math.floor(v.length / 4));
  return v.slice(0, keep) + v.slice(keep, v.length - keep).replace(/[A-Za-z0-9]/g, '•') + v.slice(v.length - keep);
}
