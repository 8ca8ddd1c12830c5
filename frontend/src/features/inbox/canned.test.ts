import { describe, expect, it } from 'vitest';
import type { Agent, CannedReply, Session } from '../../api/wire';
import { fill, pick } from './canned';

const reply = (shortcut: string, title: string, body = ''): CannedReply => ({ id: shortcut, shortcut, title, body, updated_at: '' });
const list = [reply('refund', 'Refunds'), reply('hello', 'Greeting'), reply('shipping', 'Refund of shipping')];

describe('canned replies', () => {
  it('are picked by shortcut prefix first, then by anything containing the query', () => {
    expect(pick(list, '/')?.map((c) => c.shortcut)).toEqual(['refund', 'hello', 'shipping']);
    expect(pick(list, '/ref')?.map((c) => c.shortcut)).toEqual(['refund', 'shipping']);
    expect(pick(list, 'hello')).toBeNull();
  });

  it('fill the placeholders with the customer and the agent', () => {
    const session = { customer: { id: 'c', name: 'Ada', email: null, attributes: {} } } as unknown as Session;
    const me = { name: 'Alex' } as Agent;
    expect(fill('Hi {{customer.name}}{{customer.email}}, {{ agent.name }} here {{x.y}}', session, me)).toBe('Hi Ada, Alex here {{x.y}}');
  });
});
