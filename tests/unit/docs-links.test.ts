/**
 * The README is the front door and docs/ holds the rest: every relative link in README.md, docs/ and
 * bench/README.md leads to a file of this repository and, with a #fragment, to a heading of that file (GitHub's
 * anchors); and no document points outside the repository by a relative path.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const DOCUMENTS = ['README.md', 'bench/README.md', ...readdirSync(path.join(ROOT, 'docs')).map((name) => `docs/${name}`)].filter((file) =>
  file.endsWith('.md'),
);

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces as hyphens, repeats numbered. */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  for (const [, heading] of prose.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = heading!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    anchors.add(count ? `${base}-${count}` : base);
  }
  return anchors;
}

/** Every inline link target outside code. */
function linksOf(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);
}

it.each(DOCUMENTS)('%s: every relative link leads to a file here and an existing heading', (document) => {
  const text = readFileSync(path.join(ROOT, document), 'utf8');
  const broken: string[] = [];
  for (const link of linksOf(text)) {
    if (/^[a-z]+:/i.test(link)) continue; // http(s), mailto: not a file of this repository
    const [file = '', fragment] = link.split('#');
    const target = file ? path.resolve(ROOT, path.dirname(document), file) : path.join(ROOT, document);
    if (!target.startsWith(`${ROOT}${path.sep}`) || !existsSync(target)) {
      broken.push(`${link} (no such file in the repository)`);
      continue;
    }
    if (fragment !== undefined && target.endsWith('.md') && !anchorsOf(readFileSync(target, 'utf8')).has(fragment)) {
      broken.push(`${link} (no such heading)`);
    }
  }
  expect(broken).toEqual([]);
});

it.each(DOCUMENTS)('%s names no file outside the repository', (document) => {
  expect(readFileSync(path.join(ROOT, document), 'utf8')).not.toMatch(/\.\.\/shared|issue notes/);
});
