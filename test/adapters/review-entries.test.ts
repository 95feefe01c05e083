import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackorderStore, recordItem } from '#adapters/backorder-store.ts';
import { applyEvent, type Backorder, backorderId, type RuleContext } from '#domain/backorder.ts';
import { reviewEntry } from '#domain/review.ts';
import { createTestTables, type TestTables } from '#test/support/dynamodb.ts';
import { closing, delayed } from '#test/support/erp-events.ts';

/*
 * The review entries in DynamoDB Local: written with each record (`save` and `update`), read back
 * exactly as the review computes them from the record, deleted when the line closes; and the
 * listed records read by key.
 */

const HOUR = 3_600_000;
const rules: RuleContext = {
  noticeDeadline: (learnedAt) => new Date(learnedAt.getTime() + 4 * HOUR),
  nextActionAfter: (updatedAt) => new Date(updatedAt.getTime() + 18 * HOUR),
};

let tables: TestTables;
let store: BackorderStore;

beforeAll(async () => {
  tables = await createTestTables();
  store = new BackorderStore(tables.client, tables.tableName('StoreTable'));
}, 180_000);

afterAll(() => tables?.close());

async function save(record: Backorder, previous?: Backorder): Promise<void> {
  await store.save({
    previous,
    record,
    changed: true,
    expectedVersion: previous?.version,
    timeline: {
      occurredAt: record.lastEventAt,
      receivedAt: record.lastEventAt,
      type: 'test',
      result: 'test',
      id: `${backorderId(record)}@${record.version}`,
      summary: 'test',
    },
  });
}

const byId = (a: { orderId: string; lineId: string }, b: { orderId: string; lineId: string }) =>
  backorderId(a).localeCompare(backorderId(b));

describe('review entries', () => {
  it('are read back as the review computes them, open lines only', async () => {
    // Prepare: a plain line; one with a value, tons, a key that needs encoding and a slip whose
    // notice is unsent; one whose latest notice bounced after going out late; one closed.
    const plain = applyEvent(undefined, delayed('2026-03-10T15:00:00Z', '2026-03-27'), rules).record;
    const opened = applyEvent(
      undefined,
      delayed('2026-03-11T15:00:00Z', '2026-03-25', {
        orderId: 'SO 7/#1',
        lineId: '2',
        orderValue: { amount: 1234.5, currency: 'EUR' },
        quantity: { amount: 12.5, unit: 'tons' },
      }),
      rules,
    ).record;
    const slipped = {
      ...applyEvent(
        opened,
        delayed('2026-03-12T15:00:00Z', '2026-04-02', { orderId: 'SO 7/#1', lineId: '2' }),
        rules,
      ).record,
      version: 2,
    };
    const base = applyEvent(
      undefined,
      delayed('2026-03-09T15:00:00Z', '2026-03-30', { orderId: 'SO-B' }),
      rules,
    ).record;
    const bounced: Backorder = {
      ...base,
      notices: base.notices.map((notice) => ({
        ...notice,
        status: 'sent' as const,
        sentAt: new Date(Date.parse(notice.deadline) + HOUR).toISOString(),
        delivery: 'bounced' as const,
      })),
    };
    const open = applyEvent(
      undefined,
      delayed('2026-03-08T15:00:00Z', '2026-03-26', { orderId: 'SO-C' }),
      rules,
    ).record;
    const closed = {
      ...applyEvent(
        open,
        closing('backorder.shipped', '2026-03-20T15:00:00Z', { orderId: 'SO-C', lineId: '3' }),
        rules,
      ).record,
      version: 2,
    };
    await save(plain);
    await save(opened);
    await save(slipped, opened);
    await save(bounced);
    await save(open);
    await save(closed, open);

    // Act
    const entries = await store.openReviewEntries();

    // Assess
    const expected = [plain, slipped, bounced].map(reviewEntry).sort(byId);
    expect(entries.sort(byId)).toEqual(expected);
    expect(expected.map((entry) => entry.notices.length)).toEqual([1, 1, 1]);
  });

  it('follow workflow updates: the newest version while open, gone once closed', async () => {
    // Prepare: two open lines, saved.
    const first = applyEvent(
      undefined,
      delayed('2026-03-10T15:00:00Z', '2026-03-27', { orderId: 'SO-U1' }),
      rules,
    ).record;
    const second = applyEvent(
      undefined,
      delayed('2026-03-10T15:00:00Z', '2026-03-27', { orderId: 'SO-U2' }),
      rules,
    ).record;
    await save(first);
    await save(second);
    const sent: Backorder = {
      ...first,
      version: first.version + 1,
      notices: first.notices.map((notice) => ({
        ...notice,
        status: 'sent' as const,
        sentAt: '2026-03-10T15:01:00.000Z',
      })),
    };
    const closed = {
      ...applyEvent(
        second,
        closing('backorder.cancelled', '2026-03-11T15:00:00Z', { orderId: 'SO-U2', lineId: '3' }),
        rules,
      ).record,
      version: second.version + 1,
    };

    // Act
    await store.update(sent, first.version, first);
    await store.update(closed, second.version, second);

    // Assess
    const entries = (await store.openReviewEntries()).filter((entry) => entry.orderId.startsWith('SO-U'));
    expect(entries).toEqual([reviewEntry(sent)]);
  });

  it('are written, with the unsent-notice index, when an upgraded table’s open records are rewritten', async () => {
    // Prepare: a table of its own whose records were written as an older version wrote them: no
    // entry items, no unsent-notice index attributes; one line closed.
    const own = await createTestTables();
    try {
      const table = own.tableName('StoreTable');
      const upgraded = new BackorderStore(own.client, table);
      const lines = ['SO-R1', 'SO-R2', 'SO-R3'].map(
        (orderId) =>
          applyEvent(undefined, delayed('2026-03-10T15:00:00Z', '2026-03-27', { orderId }), rules).record,
      );
      const [first, second, third] = lines as [Backorder, Backorder, Backorder];
      const closed = {
        ...applyEvent(
          third,
          closing('backorder.shipped', '2026-03-12T15:00:00Z', { orderId: 'SO-R3', lineId: '3' }),
          rules,
        ).record,
        version: 2,
      };
      const documents = DynamoDBDocumentClient.from(own.client, {
        marshallOptions: { removeUndefinedValues: true },
      });
      for (const record of [first, second, closed]) {
        const { noticePending: _pending, noticeDeadline: _deadline, ...older } = recordItem(record);
        await documents.send(new PutCommand({ TableName: table, Item: older }));
      }
      const later = new Date('2027-01-01T00:00:00Z');
      expect(await upgraded.openReviewEntries()).toEqual([]);
      expect(await upgraded.unsentNoticesDueBefore(later, 10)).toEqual([]);

      // Act
      const rewritten = await upgraded.rewriteOpenRecords();
      const again = await upgraded.rewriteOpenRecords();

      // Assess
      expect(rewritten).toEqual({ written: 2, changedMeanwhile: 0 });
      expect(again).toEqual({ written: 2, changedMeanwhile: 0 });
      expect((await upgraded.openReviewEntries()).sort(byId)).toEqual(
        [first, second].map(reviewEntry).sort(byId),
      );
      expect((await upgraded.unsentNoticesDueBefore(later, 10)).sort(byId)).toEqual(
        [first, second]
          .map((record) => ({
            orderId: record.orderId,
            lineId: record.lineId,
            deadline: record.notices[0]?.deadline,
          }))
          .sort(byId),
      );
    } finally {
      own.close();
    }
  });

  it('read the listed records by key, leaving out keys that match nothing', async () => {
    // Prepare: more lines than one BatchGetItem takes.
    const records = Array.from(
      { length: 120 },
      (_, index) =>
        applyEvent(
          undefined,
          delayed('2026-03-10T15:00:00Z', '2026-03-27', { orderId: `SO-M${index}` }),
          rules,
        ).record,
    );
    for (const record of records) await save(record);

    // Act
    const read = await store.getMany([...records, { orderId: 'SO-NONE', lineId: '1' }]);

    // Assess
    expect(read.sort(byId)).toEqual([...records].sort(byId));
  });
});
