/**
 * Sieve at delivery: find the user's active script, run it against the message, perform the
 * side effects (redirect, vacation, notify, reject MDN) and return what LMTP must store.
 * (Stub committed early so LMTP can link against it; the real body follows.)
 */
import type { SieveDeliveryInput, SieveDeliveryPlan } from './api.js';
export type { SieveDeliveryInput, SieveDeliveryPlan } from './api.js';

export async function sieveForDelivery(input: SieveDeliveryInput): Promise<SieveDeliveryPlan | null> {
  void input;
  return null;
}
