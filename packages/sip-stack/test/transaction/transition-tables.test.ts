import t from 'tap';
import { assertTransition } from '../../src/transaction/transaction.js';
import { TransactionError } from '../../src/transaction/transaction-error.js';

const table = { A: ['B'], B: [] } as const satisfies Record<'A' | 'B', readonly ('A' | 'B')[]>;

t.test('transition table: an allowed move passes', (t) => {
  t.doesNotThrow(() => assertTransition('m', table, 'A', 'B'));
  t.end();
});

t.test('transition table: a move not in the table throws SIP_ERR_TX_STATE', (t) => {
  let error: unknown;
  try {
    assertTransition('m', table, 'B', 'A');
  } catch (e) {
    error = e;
  }
  t.ok(error instanceof TransactionError);
  t.equal((error as TransactionError).code, 'SIP_ERR_TX_STATE');
  t.end();
});
