import { describe, expect, it } from 'vitest';
import { parsePhpQuery, stringifyPhpQuery } from '../../emulator/php-query.js';

// settings/how-to-call-rest-api/data-encoding.md: nested data uses PHP bracket notation.
describe('parsePhpQuery', () => {
  it('nests a[b][c] into maps', () => {
    expect(parsePhpQuery('fields[TITLE]=X&fields[UF][A][B]=1')).toEqual({ fields: { TITLE: 'X', UF: { A: { B: '1' } } } });
  });

  it('appends a[] to a list and keeps explicit indexes as lists', () => {
    expect(parsePhpQuery('select[]=ID&select[]=TITLE')).toEqual({ select: ['ID', 'TITLE'] });
    expect(parsePhpQuery('fields[PHONE][0][VALUE]=112233&fields[PHONE][0][VALUE_TYPE]=WORK')).toEqual({ fields: { PHONE: [{ VALUE: '112233', VALUE_TYPE: 'WORK' }] } });
  });

  it('keeps operator prefixes in keys: filter[>ID], filter[!@STAGE_ID][]', () => {
    expect(parsePhpQuery('filter[%3EID]=5&filter[!@STAGE_ID][]=WON&filter[!@STAGE_ID][]=LOSE')).toEqual({ filter: { '>ID': '5', '!@STAGE_ID': ['WON', 'LOSE'] } });
  });

  it('decodes + as space and %XX, tolerates malformed escapes', () => {
    expect(parsePhpQuery('a=John+%26+Martin&b=100%')).toEqual({ a: 'John & Martin', b: '100%' });
  });

  it('continues [] after the highest integer key, as PHP does', () => {
    expect(parsePhpQuery('a[5]=x&a[]=y')).toEqual({ a: { '5': 'x', '6': 'y' } });
  });

  it('lets a later scalar replace a map, and the last duplicate win', () => {
    expect(parsePhpQuery('a=1&a=2')).toEqual({ a: '2' });
  });

  it('round-trips with stringifyPhpQuery', () => {
    const value = { cmd: { a: 'crm.deal.get?id=5' }, fields: { PHONE: [{ VALUE: '+1 (555) 0100', VALUE_TYPE: 'WORK' }] }, halt: '1' };
    expect(parsePhpQuery(stringifyPhpQuery(value))).toEqual(value);
  });
});
