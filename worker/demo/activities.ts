/** Demo activities: a little latency, like a real downstream call. */
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function reserveStock(orderId: string): Promise<string> {
  await pause(300);
  return `reserved ${orderId}`;
}

export async function chargeCard(orderId: string): Promise<string> {
  await pause(350);
  return `charged ${orderId}`;
}
