/**
 * createRun's input, checked and normalised before anything is written: errors name the field (e.g.
 * `input.companyName`) and say what was wrong. The document URL is checked by the DocumentUrlChecker (it may look
 * its host up), and an idempotency key by its own rule.
 */
import { badInput } from '../errors';
import type { DocumentUrlChecker } from './document-url';

/** createRun's input, validated and normalised. */
export interface NewRun {
  companyId: string;
  companyName: string;
  documentName: string;
  documentUrl: string;
}

const COMPANY_SLUG = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Length in characters as a person counts them (code points), not UTF-16 units: an emoji is one. */
const characters = (value: string) => [...value].length;

function text(field: string, value: string, max: number): string {
  const trimmed = value.trim();
  const length = characters(trimmed);
  if (length < 1 || length > max) throw badInput(field, `must be 1 to ${max} characters (got ${length})`);
  return trimmed;
}

export async function checkNewRun(input: NewRun, documentUrls: DocumentUrlChecker): Promise<NewRun> {
  const companyId = input.companyId.trim();
  if (!companyId || characters(companyId) > 64 || !COMPANY_SLUG.test(companyId)) {
    throw badInput(
      'input.companyId',
      'must be a lowercase slug of letters, digits and single hyphens, at most 64 characters (e.g. lactalis-canada)',
    );
  }
  const companyName = text('input.companyName', input.companyName, 200);
  const documentName = text('input.documentName', input.documentName, 255);
  return { companyId, companyName, documentName, documentUrl: await documentUrls.check(input.documentUrl) };
}

/**
 * An idempotency key as the argument or the Idempotency-Key header gives it (the header as the IETF draft's
 * structured string, `"…"`, or bare): 1 to 255 visible ASCII characters. Both given, they must agree.
 */
export function idempotencyKeyOf(argument: string | null | undefined, header: string | undefined): string | undefined {
  const fromHeader = header === undefined ? undefined : checkedKey('Idempotency-Key header', header.trim().replace(/^"(.*)"$/, '$1'));
  const fromArgument = argument == null ? undefined : checkedKey('idempotencyKey', argument);
  if (fromHeader !== undefined && fromArgument !== undefined && fromHeader !== fromArgument) {
    throw badInput('idempotencyKey', 'differs from the Idempotency-Key header: send the key once, or the same key in both');
  }
  return fromArgument ?? fromHeader;
}

function checkedKey(field: string, key: string): string {
  if (!/^[\x21-\x7e]{1,255}$/.test(key)) {
    throw badInput(field, `must be 1 to 255 visible ASCII characters, such as a UUID (got ${key.length} characters)`);
  }
  return key;
}
