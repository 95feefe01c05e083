import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Webhook } from 'standardwebhooks';
import { DEV_WEBHOOK_SECRET } from '#local/dev-secret.ts';
import type { OutboxEmail, OutboxText, OutboxView } from '#local/outbox.ts';

/**
 * `npm run demo [-- --url http://127.0.0.1:3000]`: a week at a steel service center, played
 * against the local runtime over HTTP, as the ERP, a customer and the clock would: delays across
 * customers, mills and products, a slip, a customer's choice, shipments, a weekend and the
 * 14-day mark. Then it prints what each person received and when, in the company's time zone.
 *
 * It uses the system at `--url` (default `http://127.0.0.1:${PORT:-3000}`); when nothing answers
 * at the default, it starts one itself (`node local/start.ts` on a free port, a temporary
 * DATA_DIR and a virtual clock on a fixed Monday, so the output is the same every time) and stops
 * it at the end.
 */

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const ZONE = 'America/Chicago';
/** Monday 2026-04-13, 07:00 in Chicago: where a self-started demo's clock begins. */
const FIXED_MONDAY = '2026-04-13T12:00:00Z';
const DAY_MS = 86_400_000;
const tty = process.stdout.isTTY === true;
const started = Date.now();

// ─── the cast ──────────────────────────────────────────────────────────────────────────────

interface Party {
  readonly id: string;
  readonly name: string;
  readonly email: string;
}

const customers = {
  loneStar: {
    id: 'C-881',
    name: 'Lone Star Fabrication',
    email: 'purchasing@lonestarfab.example',
    timeZone: ZONE,
  },
  prairieAg: { id: 'C-412', name: 'Prairie Ag Equipment', email: 'buyer@prairieag.example', timeZone: ZONE },
  hillCountry: {
    id: 'C-507',
    name: 'Hill Country Concrete',
    email: 'orders@hillcountryconcrete.example',
    timeZone: ZONE,
  },
  gulfMarine: { id: 'C-233', name: 'Gulf Marine Works', email: 'supply@gulfmarine.example', timeZone: ZONE },
} satisfies Record<string, Party & { timeZone: string }>;

const mills = {
  gulfCoast: { id: 'MILL-7', name: 'Gulf Coast Steel Mill' },
  redRiver: { id: 'MILL-3', name: 'Red River Plate Mill' },
  coastalBend: { id: 'MILL-9', name: 'Coastal Bend Rebar Mill' },
};

const owners = {
  dana: { id: 'U-17', name: 'Dana Ortiz', email: 'dana.ortiz@svc.example' },
  marcus: { id: 'U-22', name: 'Marcus Lee', email: 'marcus.lee@svc.example' },
};

// ─── arguments and the system to talk to ──────────────────────────────────────────────────

const args = process.argv.slice(2);
if (args.includes('--help') || args.includes('-h')) {
  console.log('usage: npm run demo [-- --url http://127.0.0.1:3000]');
  process.exit(0);
}
const urlIndex = args.indexOf('--url');
const explicitUrl = urlIndex >= 0 ? args[urlIndex + 1] : undefined;
if (urlIndex >= 0 && !explicitUrl) fail('--url needs a value, such as --url http://127.0.0.1:3000');
const webhookSecret = process.env.WEBHOOK_SECRET ?? DEV_WEBHOOK_SECRET;

let child: ChildProcess | undefined;
let childDataDir: string | undefined;

async function main(): Promise<void> {
  const defaultUrl = `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  let url = (explicitUrl ?? defaultUrl).replace(/\/+$/, '');
  const running = await answers(url);
  if (!running && explicitUrl) fail(`nothing answers ${url}/_local/clock: is \`npm start\` running there?`);
  if (!running) url = await startOwnSystem();
  else console.log(`Using the local system at ${url}.`);

  const config = readConfig(running ? process.env.BACKORDER_CONFIG : undefined);
  const before = running ? await outbox(url) : { emails: [], texts: [] };
  const seen = new Set([...before.emails, ...before.texts].map((message) => message.id));
  const monday = firstMondayAfter(await serviceNow(url));
  // Against a system that already has data, order numbers of their own keep the story apart.
  const suffix = running && seen.size > 0 ? `-${localDate(monday).slice(5).replace('-', '')}` : '';
  const week = new Week(url, monday, suffix);

  console.log(`\n${config.companyName}: the week of ${formatDay(monday)} (times in ${ZONE})\n`);
  await week.play();

  const all = await outbox(url);
  const emails = all.emails.filter((email) => !seen.has(email.id));
  const texts = all.texts.filter((text) => !seen.has(text.id));
  const directory = new Directory(config);
  printTimeline(emails, texts, directory);
  printSummary(emails, texts, directory);
}

/** Whether a local runtime answers there. */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/_local/clock`, { signal: AbortSignal.timeout(1_500) });
    return response.ok;
  } catch {
    return false;
  }
}

/** `npm start` in a child process: a free port, a temporary data folder, the clock on a fixed Monday. */
async function startOwnSystem(): Promise<string> {
  childDataDir = mkdtempSync(join(tmpdir(), 'backorder-watch-demo-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: '0',
    DATA_DIR: childDataDir,
    LOCAL_CLOCK_START: FIXED_MONDAY,
    WEBHOOK_SECRET: webhookSecret,
  };
  const spawned = spawn(process.execPath, ['local/start.ts'], {
    cwd: PROJECT_ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = spawned;
  let output = '';
  spawned.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  spawned.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });

  const label = 'No local system answers: starting one (DynamoDB Local and the CDK synthesis)';
  const ticker = tty
    ? setInterval(() => process.stdout.write(`\r${label}… ${seconds(Date.now() - started)}`), 250)
    : undefined;
  if (!tty) console.log(`${label}…`);
  try {
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => reject(new Error('it did not start within 3 minutes')), 180_000);
      spawned.stdout?.on('data', () => {
        const match = /^Listening on (http:\/\/\S+)$/m.exec(output);
        if (!match?.[1]) return;
        clearTimeout(timer);
        resolveUrl(match[1]);
      });
      spawned.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`it stopped (code ${code}): ${output.trim().split('\n').at(-1) ?? ''}`));
      });
    });
    clearInterval(ticker);
    const ready = `started in ${seconds(Date.now() - started)} at ${url}`;
    console.log(tty ? `\r${label}: ${ready}` : `  ${ready}`);
    return url;
  } catch (error) {
    clearInterval(ticker);
    if (tty) process.stdout.write('\n');
    throw error;
  }
}

async function stopOwnSystem(): Promise<void> {
  const running = child;
  child = undefined;
  if (running && running.exitCode === null && running.signalCode === null) {
    const exited = new Promise((done) => running.once('exit', done));
    running.kill('SIGTERM');
    const timer = setTimeout(() => running.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }
  if (childDataDir) rmSync(childDataDir, { recursive: true, force: true });
  childDataDir = undefined;
}

// ─── the week ─────────────────────────────────────────────────────────────────────────────

class Week {
  readonly url: string;
  readonly monday: Date;
  readonly suffix: string;

  constructor(url: string, monday: Date, suffix: string) {
    this.url = url;
    this.monday = monday;
    this.suffix = suffix;
  }

  /** An instant on day `day` (0 is Monday) at `time` in Chicago. */
  at(day: number, time: string): Date {
    return zoned(addDays(localDate(this.monday), day), time);
  }

  /** A date `days` after Monday, as the ERP writes it. */
  date(days: number): string {
    return addDays(localDate(this.monday), days);
  }

  order(id: string): string {
    return `${id}${this.suffix}`;
  }

  async play(): Promise<void> {
    const so = {
      coil: this.order('SO-20417'),
      plate: this.order('SO-20433'),
      rebar: this.order('SO-20451'),
      marine: this.order('SO-20468'),
    };

    // The coil line is reported twice: late, then later again, with the same stock alternative.
    const coil = (expectedInDays: number, reason: string, alternativeInDays: number) => ({
      orderId: so.coil,
      lineId: '1',
      customer: customers.loneStar,
      item: { sku: 'HRC-0188-48', description: '3/16" HRC 48" x 96"', product: 'Hot-rolled coil' },
      quantity: { amount: 40, unit: 'ton' },
      supplier: mills.gulfCoast,
      originalShipDate: this.date(-5),
      expectedShipDate: this.date(expectedInDays),
      reason: { code: 'MILL_SCHEDULE' as const, text: reason },
      owner: owners.dana,
      alternatives: [
        {
          id: 'ALT-1',
          description: '3/16" HRC 48" from our Houston stock',
          shipDate: this.date(alternativeInDays),
          priceDelta: { amount: 14, currency: 'USD', per: 'ton' },
        },
      ],
      orderValue: { amount: 36_800, currency: 'USD' },
    });

    await this.delay(this.at(0, '08:10'), coil(4, 'The mill moved our coil campaign to next week', 1));

    await this.delay(this.at(0, '10:40'), {
      orderId: so.plate,
      lineId: '2',
      customer: customers.prairieAg,
      item: { sku: 'PL-A36-0500-96240', description: '1/2" A36 plate 96" x 240"', product: 'Plate' },
      quantity: { amount: 12, unit: 'ton' },
      supplier: mills.redRiver,
      originalShipDate: this.date(1),
      expectedShipDate: this.date(11),
      reason: { code: 'MILL_MAINTENANCE', text: 'The plate mill is down for a roll change' },
      owner: owners.marcus,
      alternatives: [
        {
          id: 'ALT-1',
          description: '1/2" A36 plate from our Tulsa branch',
          shipDate: this.date(2),
          priceDelta: { amount: 38, currency: 'USD', per: 'ton' },
        },
        {
          id: 'ALT-2',
          description: '5/8" A36 plate from stock (heavier gauge)',
          shipDate: this.date(1),
          priceDelta: { amount: 55, currency: 'USD', per: 'ton' },
        },
      ],
      orderValue: { amount: 14_150, currency: 'USD' },
    });

    await this.delay(this.at(1, '09:15'), {
      orderId: so.rebar,
      lineId: '1',
      customer: customers.hillCountry,
      item: { sku: 'RB-05-G60-20', description: "#5 rebar grade 60, 20' lengths", product: 'Rebar' },
      quantity: { amount: 30, unit: 'ton' },
      supplier: mills.coastalBend,
      originalShipDate: this.date(2),
      expectedShipDate: this.date(7),
      reason: { code: 'TRANSPORT', text: 'Rail car shortage at the mill' },
      owner: owners.dana,
      orderValue: { amount: 25_500, currency: 'USD' },
    });

    await this.decide(this.at(1, '14:30'), customers.prairieAg, so.plate, 'ALT-1');

    await this.delay(this.at(2, '11:05'), coil(11, 'The mill pushed the coil campaign again', 3));

    await this.delay(this.at(3, '16:20'), {
      orderId: so.marine,
      lineId: '4',
      customer: customers.gulfMarine,
      item: { sku: 'HRC-0250-60', description: '1/4" HRC 60" wide', product: 'Hot-rolled coil' },
      quantity: { amount: 25, unit: 'ton' },
      supplier: mills.gulfCoast,
      originalShipDate: this.date(7),
      expectedShipDate: this.date(14),
      reason: { code: 'MILL_SCHEDULE', text: 'The mill moved our coil campaign to next week' },
      owner: owners.marcus,
      orderValue: { amount: 22_250, currency: 'USD' },
    });

    await this.close(this.at(4, '09:00'), 'backorder.shipped', so.rebar, '1', 'Shipped on truck 14');
    await this.close(
      this.at(4, '15:00'),
      'backorder.shipped',
      so.plate,
      '2',
      'Shipped from the Tulsa branch',
    );

    console.log('');
    // Past the weekend and the 14th day past SO-20417's original date (Wednesday next week).
    await this.runClock([5, 6, 7, 8, 9].map((day) => this.at(day, '17:00')));
    console.log('');
    await this.close(
      this.at(10, '10:00'),
      'backorder.shipped',
      so.coil,
      '1',
      'Coil arrived, shipped on truck 9',
    );
    await this.close(
      this.at(10, '10:30'),
      'backorder.cancelled',
      so.marine,
      '4',
      'Customer bought elsewhere',
    );
    await this.moveClock(this.at(10, '17:00'));
  }

  /** Moves the service's clock to `instant`; it answers once everything due by then has run. */
  async moveClock(instant: Date): Promise<Date> {
    const response = await fetch(`${this.url}/_local/clock`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: instant.toISOString() }),
    });
    const body = (await response.json()) as { now?: string; message?: string };
    if (!response.ok || !body.now)
      throw new Error(`the clock refused ${instant.toISOString()}: ${body.message}`);
    return new Date(body.now);
  }

  /** Runs the clock a day at a time (to each of `steps`), with a progress bar. */
  async runClock(steps: Date[]): Promise<void> {
    const end = steps.at(-1) ?? new Date();
    console.log(`The clock runs on to ${formatDay(end)} ${formatTime(end)}, a day at a time:`);
    for (const [index, step] of steps.entries()) {
      await this.moveClock(step);
      const line = `  ${bar((index + 1) / steps.length, 28)}  ${formatDay(step)}`;
      if (tty) process.stdout.write(`\r${line}`);
      else console.log(line);
    }
    if (tty) process.stdout.write('\n');
  }

  async delay(when: Date, data: DelayedData): Promise<void> {
    await this.moveClock(when);
    const result = await this.post({ type: 'backorder.delayed', occurredAt: withOffset(when), data });
    const was = data.originalShipDate;
    story(
      when,
      `ERP: ${data.orderId} line ${data.lineId} late at ${data.supplier.name}`,
      `${data.customer.name} · ${data.quantity.amount} ${data.quantity.unit} ${data.item.product} · ships ${shortDate(data.expectedShipDate)} (was ${shortDate(was)}) → ${result}`,
    );
  }

  async close(
    when: Date,
    type: 'backorder.shipped' | 'backorder.cancelled',
    orderId: string,
    lineId: string,
    note: string,
  ): Promise<void> {
    await this.moveClock(when);
    const result = await this.post({ type, occurredAt: withOffset(when), data: { orderId, lineId, note } });
    story(when, `ERP: ${orderId} line ${lineId} ${type.replace('backorder.', '')}`, `${note} → ${result}`);
  }

  /** The customer follows the link for `alternativeId` in their latest notice: opens it, then confirms. */
  async decide(when: Date, customer: Party, orderId: string, alternativeId: string): Promise<void> {
    await this.moveClock(when);
    const notices = (await outbox(this.url)).emails.filter(
      (email) => email.to.includes(customer.email) && email.subject.includes(orderId),
    );
    const link = choiceLink(notices.at(-1)?.text ?? '', alternativeId);
    if (!link) throw new Error(`no link for ${alternativeId} in the notice about ${orderId}`);
    const page = await fetch(link);
    const shown = titleOf(await page.text());
    const confirmed = await fetch(link, { method: 'POST' });
    const recorded = titleOf(await confirmed.text());
    story(
      when,
      `${customer.name} clicks "${alternativeId}" in the email`,
      `GET ${page.status} "${shown}" → confirms: POST ${confirmed.status} "${recorded}"`,
    );
  }

  /** Posts one event, signed like the ERP signs it, at the service's clock. */
  async post(event: unknown): Promise<string> {
    const body = JSON.stringify(event);
    const id = `msg_${crypto.randomUUID()}`;
    const at = await serviceNow(this.url);
    const response = await fetch(`${this.url}/v1/erp/events`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'webhook-id': id,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': new Webhook(webhookSecret).sign(id, at, body),
      },
    });
    const answer = (await response.json().catch(() => ({}))) as { result?: string };
    if (response.status === 401) {
      throw new Error(
        'the system refused the signature: run the demo with the WEBHOOK_SECRET it was started with',
      );
    }
    if (response.status !== 202 || !answer.result) {
      throw new Error(`the system answered ${response.status} ${JSON.stringify(answer)}`);
    }
    return answer.result;
  }
}

interface DelayedData {
  orderId: string;
  lineId: string;
  customer: Party & { timeZone?: string };
  item: { sku: string; description: string; product?: string };
  quantity: { amount: number; unit: string };
  supplier: { id: string; name: string };
  originalShipDate: string;
  expectedShipDate: string;
  reason: { code: string; text: string };
  owner: Party;
  alternatives?: {
    id: string;
    description: string;
    shipDate: string;
    priceDelta: { amount: number; currency: string; per: string };
  }[];
  orderValue?: { amount: number; currency: string };
}

/** The decision link that follows the mention of `alternativeId` in a notice's text. */
function choiceLink(text: string, alternativeId: string): string | undefined {
  const links = [...text.matchAll(/https?:\/\/\S+\/v1\/decisions\/[\w.-]+/g)];
  let from = 0;
  for (const link of links) {
    if (text.slice(from, link.index).includes(alternativeId)) return link[0];
    from = link.index + link[0].length;
  }
  return undefined;
}

/** A page's title, without the company name after it. */
function titleOf(html: string): string {
  const title = /<title>([^<]*)<\/title>/.exec(html)?.[1] ?? '';
  return (title.split(' · ')[0] ?? '').replace(/&#39;|&rsquo;/g, '’').trim();
}

// ─── what people received ─────────────────────────────────────────────────────────────────

interface Config {
  readonly companyName: string;
  readonly people: Map<string, { name: string; role: string }>;
}

function readConfig(file: string | undefined): Config {
  const path = resolve(
    PROJECT_ROOT,
    file ?? process.env.BACKORDER_CONFIG ?? 'config/organisation.sample.json',
  );
  const people = new Map<string, { name: string; role: string }>();
  if (!existsSync(path)) return { companyName: 'The service center', people };
  const config = JSON.parse(readFileSync(path, 'utf8')) as {
    company?: { name?: string };
    people?: {
      managers?: { name: string; email: string; phone?: string }[];
      vps?: { name: string; email: string; phone?: string }[];
      ownerPhones?: Record<string, string>;
    };
    morningReview?: { recipients?: string[] };
  };
  for (const [role, list] of [
    ['manager', config.people?.managers ?? []],
    ['VP', config.people?.vps ?? []],
  ] as const) {
    for (const person of list) {
      people.set(person.email, { name: person.name, role });
      if (person.phone) people.set(person.phone, { name: person.name, role });
    }
  }
  for (const owner of Object.values(owners)) {
    const phone = config.people?.ownerPhones?.[owner.id];
    people.set(owner.email, { name: owner.name, role: 'owner' });
    if (phone) people.set(phone, { name: owner.name, role: 'owner' });
  }
  for (const recipient of config.morningReview?.recipients ?? []) {
    people.set(recipient, { name: recipient.split('@')[0] ?? recipient, role: 'sales ops' });
  }
  for (const customer of Object.values(customers))
    people.set(customer.email, { name: customer.name, role: 'customer' });
  return { companyName: config.company?.name ?? 'The service center', people };
}

class Directory {
  readonly #config: Config;

  constructor(config: Config) {
    this.#config = config;
  }

  who(address: string): { name: string; role: string } {
    return this.#config.people.get(address) ?? { name: address, role: 'other' };
  }
}

function printTimeline(emails: OutboxEmail[], texts: OutboxText[], directory: Directory): void {
  const messages = [
    ...emails.map((email) => ({ at: email.at, kind: 'email' as const, to: email.to, line: email.subject })),
    ...texts.map((text) => ({
      at: text.at,
      kind: 'text' as const,
      to: text.to,
      line: text.message,
      audience: text.audience,
    })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));

  console.log(`\nWhat each person received, and when (${ZONE})`);
  let day = '';
  for (const message of messages) {
    const at = new Date(message.at);
    if (formatDay(at) !== day) {
      day = formatDay(at);
      console.log(`\n  ${day}`);
    }
    const recipients = message.to.map((address) => {
      const person = directory.who(address);
      const role = 'audience' in message && message.audience ? message.audience : person.role;
      return `${person.name} (${role})`;
    });
    const icon = message.kind === 'email' ? 'email' : 'text ';
    console.log(`    ${formatTime(at)}  ${icon}  ${recipients.join(', ')}`);
    console.log(`                  ${message.kind === 'email' ? message.line : `“${message.line}”`}`);
  }
  if (messages.length === 0) console.log('  (nothing was delivered)');
}

function printSummary(emails: OutboxEmail[], texts: OutboxText[], directory: Directory): void {
  const count = (roles: string[]) => {
    const counts = new Map<string, number>();
    for (const role of roles) counts.set(role, (counts.get(role) ?? 0) + 1);
    return [...counts].map(([role, n]) => `${role} ${n}`).join(', ') || 'none';
  };
  const emailRoles = emails.flatMap((email) => email.to.map((address) => directory.who(address).role));
  const textRoles = texts.flatMap((text) =>
    text.to.map((address) => text.audience ?? directory.who(address).role),
  );
  console.log('\nSummary');
  console.log(`  Emails sent: ${emails.length}  (${count(emailRoles)})`);
  console.log(`  Texts sent:  ${texts.length}  (${count(textRoles)})`);
  console.log(`  The demo took ${seconds(Date.now() - started)}.`);
}

function story(when: Date, what: string, detail: string): void {
  console.log(`  ${formatDay(when)} ${formatTime(when)}  ${what}`);
  console.log(`                      ${detail}`);
}

// ─── time in Chicago ──────────────────────────────────────────────────────────────────────

const parts = new Intl.DateTimeFormat('en-US', {
  timeZone: ZONE,
  hourCycle: 'h23',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});

/** The offset of Chicago from UTC at `instant`, in minutes (−300 in summer). */
function offsetMinutes(instant: Date): number {
  const values = Object.fromEntries(
    parts.formatToParts(instant).map((part) => [part.type, Number(part.value)] as const),
  );
  const asUtc = Date.UTC(
    values.year ?? 0,
    (values.month ?? 1) - 1,
    values.day ?? 1,
    values.hour ?? 0,
    values.minute ?? 0,
    values.second ?? 0,
  );
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

/** The instant of `date` at `time` in Chicago. */
function zoned(date: string, time: string): Date {
  const guess = new Date(`${date}T${time}:00Z`);
  const first = new Date(guess.getTime() - offsetMinutes(guess) * 60_000);
  return new Date(guess.getTime() - offsetMinutes(first) * 60_000);
}

/** The calendar date in Chicago at `instant`. */
function localDate(instant: Date): string {
  return new Date(instant.getTime() + offsetMinutes(instant) * 60_000).toISOString().slice(0, 10);
}

function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T12:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10);
}

/** ISO-8601 with Chicago's offset, as an ERP in Texas writes `occurredAt`. */
function withOffset(instant: Date): string {
  const offset = offsetMinutes(instant);
  const local = new Date(instant.getTime() + offset * 60_000).toISOString().slice(0, 19);
  const sign = offset < 0 ? '-' : '+';
  const hours = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  return `${local}${sign}${hours}:${String(Math.abs(offset) % 60).padStart(2, '0')}`;
}

/** The first Monday whose 08:00 in Chicago is after `now`. */
function firstMondayAfter(now: Date): Date {
  for (let day = 0; ; day++) {
    const date = addDays(localDate(now), day);
    const morning = zoned(date, '08:00');
    if (new Date(`${date}T12:00:00Z`).getUTCDay() === 1 && morning > now) return zoned(date, '07:00');
  }
}

function formatDay(instant: Date): string {
  return instant.toLocaleDateString('en-US', {
    timeZone: ZONE,
    weekday: 'short',
    month: 'short',
    day: 'numeric',
  });
}

function formatTime(instant: Date): string {
  return instant.toLocaleTimeString('en-US', {
    timeZone: ZONE,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  });
}

function shortDate(date: string): string {
  return new Date(`${date}T12:00:00Z`).toLocaleDateString('en-US', {
    timeZone: 'UTC',
    month: 'short',
    day: 'numeric',
  });
}

// ─── small things ─────────────────────────────────────────────────────────────────────────

async function serviceNow(url: string): Promise<Date> {
  const response = await fetch(`${url}/_local/clock`);
  return new Date(((await response.json()) as { now: string }).now);
}

async function outbox(url: string): Promise<OutboxView> {
  return (await (await fetch(`${url}/_local/outbox`)).json()) as OutboxView;
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(fraction * width);
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(fraction * 100)).padStart(3)}%`;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

function fail(message: string): never {
  console.error(`npm run demo: ${message}`);
  process.exit(1);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log('\nStopping…');
    stopOwnSystem().finally(() => process.exit(130));
  });
}

try {
  await main();
} catch (error) {
  console.error(`\nnpm run demo: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  await stopOwnSystem();
}
