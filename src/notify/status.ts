/** One endpoint as `berth notifications status` shows it. */
export interface EndpointStatus {
  name: string;
  url: string;
  format: string;
  disabled: boolean;
  /** Events waiting to be delivered (the outbox), and when the oldest of them happened. */
  pending: number;
  oldestPendingAt: string | null;
  delivered: number;
  failedAttempts: number;
  /** Events dropped because the outbox was full. */
  dropped: number;
  lastSuccessAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
}

export interface NotificationsStatus {
  endpoints: EndpointStatus[];
}
