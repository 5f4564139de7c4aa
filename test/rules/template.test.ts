import { describe, expect, it } from 'vitest';
import { compileTemplate, compileValue, TemplateError } from '../../engine/template/index.js';

const facts = {
  now: '2026-03-10T12:00:00.000Z',
  deal: { ID: '42', TITLE: ' Big deal ', OPPORTUNITY: 1500, TAGS: ['a', 'b'], DATE_MODIFY: '2026-03-01T00:30:00+03:00', EMPTY: '', NIL: null },
  contact: { PHONE: [{ VALUE: '+49 30 1234567', VALUE_TYPE: 'WORK' }] },
  request: { headers: { 'x-token': 'abc' }, body: { 'first name': 'Ann' } },
};

const render = (src: string, f: Record<string, unknown> = facts) => compileTemplate(src).render(f);

describe('templates', () => {
  it('a string that is exactly one template keeps the value type', () => {
    expect(render('{{ deal.OPPORTUNITY }}')).toBe(1500);
    expect(render('{{ deal.TAGS }}')).toEqual(['a', 'b']);
    expect(render('{{deal.ID}}')).toBe('42');
  });

  it('mixed text stringifies, and a missing value is empty, never "undefined"', () => {
    expect(render('Deal {{ deal.ID }}: {{ deal.MISSING }}|{{ nothing.at.all }}|{{ deal.NIL }}')).toBe('Deal 42: ||');
    expect(render('tags={{ deal.TAGS }}')).toBe('tags=["a","b"]');
    expect(render('{{ deal.MISSING }}')).toBeUndefined();
  });

  it('reads array indexes, hyphenated keys and bracketed keys', () => {
    expect(render('{{ contact.PHONE.0.VALUE }}')).toBe('+49 30 1234567');
    expect(render('{{ contact.PHONE[0].VALUE_TYPE }}')).toBe('WORK');
    expect(render('{{ request.headers.x-token }}')).toBe('abc');
    expect(render('{{ request.body["first name"] }}')).toBe('Ann');
  });

  it('never reads through prototypes', () => {
    expect(render('{{ deal.constructor }}')).toBeUndefined();
    expect(render('{{ deal.__proto__ }}')).toBeUndefined();
    expect(render('{{ deal.TITLE.length }}')).toBeUndefined();
    expect(render('{{ deal.ID.toString }}')).toBeUndefined();
  });

  it.each([
    ['{{ deal.MISSING | default: "n/a" }}', 'n/a'],
    ['{{ deal.EMPTY | default: none }}', 'none'],
    ['{{ deal.ID | default: 0 }}', '42'],
    ['{{ deal.TITLE | trim | upper }}', 'BIG DEAL'],
    ['{{ deal.TITLE | lower }}', ' big deal '],
    ['{{ deal.TAGS | json }}', '["a","b"]'],
    ['{{ deal.MISSING | json }}', 'null'],
    ['{{ deal.TAGS | join }}', 'a, b'],
    ['{{ deal.TAGS | join: "-" }}', 'a-b'],
    ['{{ deal.TITLE | trim | truncate: 3 }}', 'Big'],
    ['{{ now | add_days: -14 }}', '2026-02-24T12:00:00.000Z'],
    ['{{ now | add_hours: 2 | iso }}', '2026-03-10T14:00:00.000Z'],
    ['{{ deal.DATE_MODIFY | iso }}', '2026-02-28T21:30:00.000Z'],
    ['{{ deal.DATE_MODIFY | date: YYYY-MM-DD }}', '2026-03-01'],
    ['{{ now | date: DD.MM.YYYY HH:mm }}', '10.03.2026 12:00'],
    ['{{ deal.MISSING | iso }}', undefined],
    ['{{ deal.MISSING | upper }}', undefined],
  ])('filter %s', (src, want) => {
    expect(render(src)).toEqual(want);
  });

  it('lists the root names it reads', () => {
    expect(compileTemplate('{{ deal.ID }} {{ owner.NAME | upper }} {{ deal.TITLE }}').refs).toEqual(['deal', 'owner']);
    expect(compileTemplate('plain').refs).toEqual([]);
  });

  it.each([
    ['Won: {{ deal.TITLE', 'TEMPLATE_SYNTAX', 5, 'never closed'],
    ['{{ }}', 'TEMPLATE_SYNTAX', 3, 'empty template'],
    ['x {{ deal. }}', 'TEMPLATE_SYNTAX', 10, "expected a name after '.'"],
    ['{{ deal.ID upper }}', 'TEMPLATE_SYNTAX', 11, "use '|' before a filter"],
    ['{{ deal.ID | uper }}', 'TEMPLATE_UNKNOWN_FILTER', 13, "did you mean 'upper'"],
    ['{{ deal.ID | truncate }}', 'TEMPLATE_FILTER_ARGUMENT', 13, 'needs an argument'],
    ['{{ deal.ID | upper: 3 }}', 'TEMPLATE_FILTER_ARGUMENT', 13, 'takes no argument'],
    ['{{ now | add_days: soon }}', 'TEMPLATE_FILTER_ARGUMENT', 9, 'needs a number'],
    ['{{ deal.ID | default: "x }}', 'TEMPLATE_SYNTAX', 22, 'unterminated'],
  ])('rejects %s', (src, code, offset, fragment) => {
    let err: unknown;
    try {
      compileTemplate(src);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TemplateError);
    const te = err as TemplateError;
    expect(te.code).toBe(code);
    expect(te.offset).toBe(offset);
    expect(te.message).toContain(fragment);
    expect(te.kind).toBe('user');
  });

  it('compiles values deeply, keeping non-template values as they are', () => {
    const v = compileValue({ id: '{{ deal.ID }}', fields: { TITLE: 'Re: {{ deal.TITLE | trim }}', N: 5, LIST: ['{{ deal.OPPORTUNITY }}', true] } });
    expect(v.render(facts)).toEqual({ id: '42', fields: { TITLE: 'Re: Big deal', N: 5, LIST: [1500, true] } });
    expect(v.refs).toEqual(['deal']);
    expect(v.templates.map((t) => t.pointer)).toEqual(['/id', '/fields/TITLE', '/fields/LIST/0']);
  });

  it('rendering a value twice gives independent copies', () => {
    const v = compileValue({ a: ['{{ deal.ID }}'] });
    const one = v.render(facts) as { a: unknown[] };
    one.a.push('x');
    expect(v.render(facts)).toEqual({ a: ['42'] });
  });

  it('reports every bad string of a value with its pointer', () => {
    const errors: string[] = [];
    compileValue({ a: '{{ x', b: ['ok {{ y }}', '{{ z | nope }}'] }, (err, pointer) => errors.push(`${pointer} ${(err as TemplateError).code}`));
    expect(errors).toEqual(['/a TEMPLATE_SYNTAX', '/b/1 TEMPLATE_UNKNOWN_FILTER']);
  });
});
