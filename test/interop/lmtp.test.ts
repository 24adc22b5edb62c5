/**
 * lmtpd against real LMTP clients (issue #7): swaks --protocol LMTP over the unix socket and
 * TCP (pipelined, several recipients, one reply each), Cyrus's lmtptest authenticating as an
 * admin, and Python's smtplib.LMTP.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run } from './lib/run.js';
import { messageCount, messageTexts, startDeliverySite } from '../../src/protocols/lmtp/test-kit.js';

const LMTPTEST = '/usr/lib/cyrus/bin/lmtptest';

test('swaks delivers over the unix socket and TCP -a, one reply per recipient, pipelined', async () => {
  const s = await startDeliverySite();
  try {
    const viaUnix = await run('swaks', [
      '--protocol',
      'LMTP',
      '--socket',
      s.lmtpSocket,
      '--pipeline',
      '--to',
      'fred,bob,ghost',
      '--from',
      'sender@example.org',
      '--header',
      'Subject: swaks unix',
      '--body',
      'hello from swaks',
    ]);
    assert.equal(viaUnix.code, 0, viaUnix.out + viaUnix.err);
    assert.match(viaUnix.out, /<\*\* +550 5\.1\.1 User unknown/);
    assert.equal((viaUnix.out.match(/<- +250 2\.1\.5 ok SESSIONID=/g) ?? []).length, 2, viaUnix.out);
    const viaTcp = await run('swaks', [
      '--protocol',
      'LMTP',
      '--server',
      '127.0.0.1',
      '--port',
      String(s.lmtpPort),
      '--to',
      'fred',
      '--from',
      'sender@example.org',
      '--header',
      'Subject: swaks tcp',
      '--body',
      '.leading dot',
    ]);
    assert.equal(viaTcp.code, 0, viaTcp.out + viaTcp.err);
    assert.equal(messageCount(s.store, 'user.fred'), 2);
    assert.equal(messageCount(s.store, 'user.bob'), 1);
    const texts = messageTexts(s.store, 'user.fred');
    assert.match(texts[0]!, /Subject: swaks unix/);
    assert.match(texts[1]!, /\r\n\r\n\.leading dot\r\n/);
    // a TCP peer without -a must authenticate first
    const noAuth = await run('swaks', [
      '--protocol',
      'LMTP',
      '--server',
      '127.0.0.1',
      '--port',
      String(s.lmtpAuthPort),
      '--to',
      'fred',
      '--from',
      'a@b.example',
    ]);
    assert.notEqual(noAuth.code, 0);
    assert.match(noAuth.out, /430 .*Authentication required/);
  } finally {
    await s.stop();
  }
});

test('lmtptest authenticates as an admin (PLAIN) and delivers; a non-admin is refused', async () => {
  const s = await startDeliverySite();
  try {
    const msg = 'Subject: lmtptest\r\n\r\nbody\r\n';
    const r = await run(
      LMTPTEST,
      ['-a', 'cyrus', '-w', 'adminpw', '-m', 'PLAIN', '-p', String(s.lmtpAuthPort), '127.0.0.1'],
      {
        input: `MAIL FROM:<a@b.example>\r\nRCPT TO:<fred>\r\nDATA\r\n${msg}.\r\nQUIT\r\n`,
      },
    );
    assert.match(r.out + r.err, /235 Authenticated!/);
    assert.match(r.out + r.err, /250 2\.1\.5 ok SESSIONID/);
    assert.equal(messageCount(s.store, 'user.fred'), 1);
    const bad = await run(
      LMTPTEST,
      ['-a', 'bob', '-w', 'bobpw', '-m', 'PLAIN', '-p', String(s.lmtpAuthPort), '127.0.0.1'],
      {
        input: 'QUIT\r\n',
      },
    );
    assert.match(bad.out + bad.err, /501 5\.7\.0 only administrators/);
  } finally {
    await s.stop();
  }
});

const PY_LMTP = String.raw`
import json, smtplib, sys
path = sys.argv[1]
L = smtplib.LMTP(path)
code, _ = L.ehlo()
features = None
msg = "From: a@example.org\r\nTo: fred@example.org\r\nSubject: python lmtp\r\nMessage-ID: <py-1@example.org>\r\n\r\nfrom python\r\n"
try:
    refused = L.sendmail("a@example.org", ["fred", "bob+nosuch", "ghost"], msg)
except smtplib.SMTPRecipientsRefused as e:
    refused = e.recipients
refused = {k: [v[0], v[1].decode()] for k, v in refused.items()}
features = sorted(L.esmtp_features.keys())
L.quit()
print(json.dumps({"lhlo": code, "refused": refused, "esmtp": features}))
`;

test('Python smtplib.LMTP over the unix socket', async () => {
  const s = await startDeliverySite();
  try {
    const r = await run('python3', ['-c', PY_LMTP, s.lmtpSocket]);
    assert.equal(r.code, 0, r.err);
    const out = JSON.parse(r.out) as {
      lhlo: number;
      refused: Record<string, [number, string]>;
      esmtp: string[];
    };
    assert.equal(out.lhlo, 250);
    assert.deepEqual(Object.keys(out.refused), ['ghost']);
    assert.equal(out.refused['ghost']![0], 550);
    for (const ext of ['8bitmime', 'enhancedstatuscodes', 'pipelining', 'size', 'ignorequota'])
      assert.ok(out.esmtp.includes(ext), ext);
    assert.equal(messageCount(s.store, 'user.fred'), 1);
    assert.equal(messageCount(s.store, 'user.bob'), 1, 'bob+nosuch falls back to the INBOX');
  } finally {
    await s.stop();
  }
});
