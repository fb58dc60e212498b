// The locals each profile page renders with, in one place, so routes stay a readable chain and views get
// only what they show (never the sealed secret).
import type { EmailServerProfile } from '../generated/prisma/client.ts';
import type { FieldErrors } from '../web/forms.ts';
import type { ProfileFormValues } from './form.ts';
import { profileWarnings, formValuesFromProfile } from './form.ts';
import { profileLabels } from './labels.ts';
import { PRESETS, type PresetName } from './presets.ts';
import { publicProfile } from './service.ts';
import { VERDICT_LABELS } from './verify-client.ts';
import { authMethod } from '../mail/auth-methods.ts';
import { listView, searchForm } from '../web/list-view.ts';
import { profileList, type listProfiles } from './list.ts';
import type { RedirectPanel } from './redirect-uri.ts';
import type { ProfileAlerts } from '../alerts/profile.ts';

const presetLinks = (base: string) =>
  Object.entries(PRESETS).map(([name, p]) => ({ name, label: p.label, href: `${base}?preset=${name}` }));

export function listPage(page: Awaited<ReturnType<typeof listProfiles>>) {
  return {
    title: 'Email Server Profiles',
    labels: profileLabels,
    presets: presetLinks('/profiles/new'),
    ...listView(profileList, page, [
      'name',
      'serverType',
      { label: 'Incoming Server Location' },
      'authenticateUsing',
      'mailboxes',
      'modifiedOn',
      { label: 'Actions', srOnly: true },
    ]),
    search: searchForm(profileList, page.query, { label: 'Search profiles', placeholder: 'Name' }),
  };
}

export interface FormPageInput {
  profile?: EmailServerProfile | null;
  values: ProfileFormValues;
  errors?: FieldErrors;
  warnings?: FieldErrors;
  panel: RedirectPanel;
  preset?: PresetName | null;
}

export function formPage({ profile, values, errors = {}, warnings, panel, preset = null }: FormPageInput) {
  const view = profile ? publicProfile(profile) : null;
  return {
    title: view ? `Edit ${view.name}` : 'New Email Server Profile',
    profile: view,
    values,
    errors,
    warnings: warnings ?? profileWarnings(values),
    panel,
    preset,
    action: view ? `/profiles/${view.id}` : '/profiles',
    cancel: view ? `/profiles/${view.id}` : '/profiles',
    presets: presetLinks(view ? `/profiles/${view.id}/edit` : '/profiles/new'),
    labels: profileLabels,
  };
}

export function editPage(
  profile: EmailServerProfile,
  panel: RedirectPanel,
  overlay: Partial<ProfileFormValues> = {},
  preset: PresetName | null = null,
) {
  return formPage({ profile, values: { ...formValuesFromProfile(profile), ...overlay }, panel, preset });
}

export function showPage(profile: EmailServerProfile, mailboxes: number, panel: RedirectPanel, alerts: ProfileAlerts) {
  const view = publicProfile(profile);
  return {
    title: view.name,
    alerts,
    profile: view,
    mailboxes,
    panel,
    labels: profileLabels,
    capacity: authMethod(view).mailboxCapacity,
    warnings: profileWarnings({ authenticateUsing: view.authenticateUsing, oauthClientId: view.oauthClientId ?? '' }),
    verdictLabel: view.clientVerifiedResult
      ? (VERDICT_LABELS[view.clientVerifiedResult] ?? view.clientVerifiedResult)
      : null,
  };
}

export function deletePage(profile: EmailServerProfile, mailboxes: number) {
  return { title: `Delete ${profile.name}`, profile: publicProfile(profile), mailboxes };
}
