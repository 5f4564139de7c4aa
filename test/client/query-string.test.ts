import { describe, expect, it } from 'vitest';
import { commandMethod, encodeCommand, encodeParams } from '../../engine/client/index.js';
import { parsePhpQuery } from './helpers/php-portal.js';

describe('encodeParams (PHP http_build_query form)', () => {
  it('nests objects and indexes arrays', () => {
    expect(encodeParams({ fields: { TITLE: 'A', PHONE: [{ VALUE: '+1 555', VALUE_TYPE: 'WORK' }] }, select: ['ID', 'TITLE'] })).toBe(
      'fields[TITLE]=A&fields[PHONE][0][VALUE]=%2B1%20555&fields[PHONE][0][VALUE_TYPE]=WORK&select[0]=ID&select[1]=TITLE',
    );
  });

  it('encodes booleans as 1/0, drops null, undefined and empty containers', () => {
    expect(encodeParams({ a: true, b: false, c: null, d: undefined, e: [], f: {}, g: 0 })).toBe('a=1&b=0&g=0');
  });

  it('escapes & = ? # and filter operators so they survive, keeps $result references readable', () => {
    const q = encodeParams({ filter: { '>=DATE': '2024-01-01T00:00:00+02:00', '%TITLE': 'a&b=c?#' }, id: '$result[get_user][UF_DEPARTMENT][0]' });
    expect(q).toContain('id=$result[get_user][UF_DEPARTMENT][0]');
    expect(parsePhpQuery(q)).toEqual({ filter: { '>=DATE': '2024-01-01T00:00:00+02:00', '%TITLE': 'a&b=c?#' }, id: '$result[get_user][UF_DEPARTMENT][0]' });
  });

  it('round-trips unicode', () => {
    expect(parsePhpQuery(encodeParams({ fields: { TITLE: 'Сделка №1 — ü' } }))).toEqual({ fields: { TITLE: 'Сделка №1 — ü' } });
  });
});

describe('encodeCommand', () => {
  it('is method?query, or just the method', () => {
    expect(encodeCommand('crm.lead.get', { id: 5 })).toBe('crm.lead.get?id=5');
    expect(encodeCommand('user.current')).toBe('user.current');
    expect(commandMethod('crm.lead.get?id=5')).toBe('crm.lead.get');
  });
});
