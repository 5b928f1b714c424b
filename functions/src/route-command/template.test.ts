import { describe, expect, test } from 'vitest';
import { CommandErrorCode } from './errors.ts';
import { checkTemplateKey, placeholders, renderCommand } from './template.ts';

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return 'no error';
};

describe('renderCommand', () => {
  test.each([
    ['getinfo', undefined, 'getinfo'],
    ['getver', {}, 'getver'],
    ['getgps', null, 'getgps'],
    ['setdigout {state}', { state: '1??' }, 'setdigout 1??'],
    ['setdigout {a}{b} {t}', { a: 1, b: 0, t: 30 }, 'setdigout 10 30'],
    ['setparam {id}:{value}', { id: 2004, value: 'gps.example.org' }, 'setparam 2004:gps.example.org'],
    ['setparam {id}:{id}', { id: 7 }, 'setparam 7:7'],
    ['flag {on}', { on: true }, 'flag 1'],
    ['flag {on}', '{"on": false}', 'flag 0'],
  ])('%s with %j → %s', (template, args, text) => {
    expect(renderCommand(template, args)).toBe(text);
  });

  test.each([
    ['unknown argument', 'getinfo', { x: 1 }],
    ['missing argument', 'setdigout {state}', {}],
    ['a space (extra parameters)', 'setdigout {state}', { state: '1 0' }],
    ['a semicolon (second setparam)', 'setparam {id}:{v}', { id: 1, v: 'a;2001:evil' }],
    ['a carriage return', 'setdigout {state}', { state: '1\r\ncpureset' }],
    ['a NUL', 'setdigout {state}', { state: '1\u0000' }],
    ['non-ASCII', 'setdigout {state}', { state: 'é' }],
    ['a quote', 'setdigout {state}', { state: '"1"' }],
    ['an empty value', 'setdigout {state}', { state: '' }],
    ['a value over 64 characters', 'setdigout {state}', { state: 'x'.repeat(65) }],
    ['an object value', 'setdigout {state}', { state: { a: 1 } }],
    ['an infinite number', 'setdigout {state}', { state: Infinity }],
    ['an array of args', 'setdigout {state}', ['1']],
    ['args that are not JSON', 'setdigout {state}', '{nope'],
    ['a text that becomes hex bytes', '{a}{b}', { a: 'DE', b: 'AD' }],
    ['a text over 255 characters', `${'{a}'.repeat(5)}`, { a: 'x'.repeat(60) }],
  ])('refuses %s', (_what, template, args) => {
    expect(code(() => renderCommand(template, args))).toBe(CommandErrorCode.BAD_ARGS);
  });
});

describe('template text and key', () => {
  test.each([
    ['getinfo', []],
    ['setdigout {state} {t1}', ['state', 't1']],
    ['a {x} b {x}', ['x']],
  ])('placeholders of %s', (text, names) => {
    expect(placeholders(text)).toEqual(names);
  });

  test.each([['bad {Name}'], ['open {brace'], ['close }'], [''], ['tab\there'], ['x'.repeat(256)], [42]])('refuses template text %j', (text) => {
    expect(code(() => placeholders(text))).toBe(CommandErrorCode.BAD_TEMPLATE);
  });

  test.each([['getinfo', true], ['set_digout2', true], ['GetInfo', false], ['2x', false], ['', false], ['a-b', false]])('key %s ok=%s', (key, ok) => {
    expect(code(() => checkTemplateKey(key)) === 'no error').toBe(ok);
  });
});
