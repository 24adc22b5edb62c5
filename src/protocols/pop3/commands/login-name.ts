/** `user+folder` login names (popsubfolders): the userid and the folder under INBOX. */
import type { ImapdConf } from '../../../config/api.js';

export function splitSubfolder(name: string, conf: ImapdConf): { user: string; folder: string | null } {
  if (!conf.getSwitch('popsubfolders')) return { user: name, folder: null };
  const plus = name.indexOf('+');
  if (plus <= 0) return { user: name, folder: null };
  const at = name.lastIndexOf('@');
  const domain = at > plus ? name.slice(at) : '';
  const folder = name.slice(plus + 1, at > plus ? at : undefined);
  return { user: name.slice(0, plus) + domain, folder: folder === '' ? null : folder };
}
