// Desktop notifications through the Notification API. Permission is only ever requested from a
// click handler (browsers ignore or penalise requests made on page load).
export type DesktopPermission = NotificationPermission | 'unsupported';

export function desktopPermission(): DesktopPermission {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

export async function requestDesktopPermission(): Promise<DesktopPermission> {
  if (typeof Notification === 'undefined') return 'unsupported';
  return Notification.requestPermission();
}

export function pageHidden(): boolean {
  return typeof document !== 'undefined' && document.visibilityState === 'hidden';
}

export function showDesktopNotification(options: { title: string; body: string; tag: string; onClick: () => void }): void {
  if (desktopPermission() !== 'granted') return;
  try {
    // The same tag replaces the previous notification of that conversation instead of stacking.
    const n = new Notification(options.title, { body: options.body.slice(0, 160), tag: options.tag });
    n.onclick = () => {
      window.focus();
      options.onClick();
      n.close();
    };
  } catch {
    // Some platforms (Android Chrome) only allow notifications from a service worker.
  }
}
