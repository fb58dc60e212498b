// Idempotency-Key on POSTs that start work: the first answer is stored (IdempotentRequest) and a repeat of the same
// request with the same key gets it again, without doing the work twice. A repeat while the first is still running
// answers 409; the same key with a different request answers 422. Keys are per token and kept for a day.
import { createHash } from 'node:crypto';
import type { PrismaClient } from '../generated/prisma/client.ts';
import { ApiProblem } from './problem.ts';
import type { Reply } from './define.ts';

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
export const REPLAYED_HEADER = 'Idempotent-Replayed';

export function fingerprint(method: string, path: string, body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify([method, path, body ?? null]))
    .digest('hex');
}

export async function idempotent(
  prisma: PrismaClient,
  o: { tokenId: string; key: string; fingerprint: string },
  run: () => Promise<Reply>,
): Promise<Reply> {
  if (o.key.length > 200 || !o.key.trim())
    throw new ApiProblem(400, 'Idempotency-Key must be 1 to 200 characters.', {
      errors: { 'Idempotency-Key': 'Use 1 to 200 characters' },
    });
  await prisma.idempotentRequest.deleteMany({
    where: { tokenId: o.tokenId, key: o.key, createdAt: { lt: new Date(Date.now() - IDEMPOTENCY_TTL_MS) } },
  });
  let id: string;
  try {
    ({ id } = await prisma.idempotentRequest.create({
      data: { tokenId: o.tokenId, key: o.key, fingerprint: o.fingerprint },
      select: { id: true },
    }));
  } catch (e) {
    if ((e as { code?: string }).code !== 'P2002') throw e;
    const first = await prisma.idempotentRequest.findUnique({
      where: { tokenId_key: { tokenId: o.tokenId, key: o.key } },
    });
    if (!first) throw new ApiProblem(409, 'A request with this Idempotency-Key was just being made: send it again.');
    if (first.fingerprint !== o.fingerprint)
      throw new ApiProblem(422, 'This Idempotency-Key was used for a different request.', {
        type: '/api/problems/idempotency-key-reused',
      });
    if (first.statusCode === null)
      throw new ApiProblem(409, 'The first request with this Idempotency-Key is still being processed.');
    return { status: first.statusCode, body: first.body ?? undefined, headers: { [REPLAYED_HEADER]: 'true' } };
  }
  let reply: Reply;
  try {
    reply = await run();
  } catch (e) {
    // Nothing was answered: the key may be used again (a problem is not a result worth repeating).
    await prisma.idempotentRequest.delete({ where: { id } }).catch(() => {});
    throw e;
  }
  const body = reply.body === undefined ? undefined : JSON.parse(JSON.stringify(reply.body));
  await prisma.idempotentRequest.update({ where: { id }, data: { statusCode: reply.status, body } });
  return reply;
}
