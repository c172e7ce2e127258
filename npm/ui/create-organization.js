// Create organization (Clerk's `<CreateOrganization>`): the name; the new organization becomes the
// active one, then `afterCreateOrganizationUrl`. The form is shared with the organization switcher,
// which shows it in its panel.

import { card } from "./card.js";
import { go } from "./context.js";
import { alertBox, checkRequired, field, onSubmit, primaryButton, showError } from "./form.js";

/**
 * The form: creates the organization, makes it active, then `done(organization)`. `cancel`: an
 * extra button beside the submit one (or null).
 */
export function createOrganizationForm(c, hp, alert, cancel, done) {
  const t = c.t;
  const name = field(c, { name: "organizationName", label: t("formFieldLabel__organizationName"), autocomplete: "organization" });
  const button = primaryButton(c, t("createOrganization.formButtonSubmit"));
  const form = c.node("form", "form", { novalidate: true, "aria-label": t("createOrganization.title") },
    name.root, c.node("formButtons", "div", null, button, cancel));
  onSubmit(form, button, async () => {
    alert.textContent = "";
    if (!checkRequired(c, [[name, t("formFieldLabel__organizationName")]])) return;
    let organization;
    try {
      organization = await hp.createOrganization({ name: name.input.value.trim() });
      await hp.setActive({ organization: organization.id });
    } catch (error) {
      showError(c, error, {}, alert);
      return;
    }
    form.reset();
    c.dispatchEvent(new CustomEvent("hallpass:organization-created", { bubbles: true, composed: true, detail: { id: organization.id } }));
    done(organization);
  });
  return form;
}

/** The component: the form in a card. Signed out, it renders nothing. */
export function createOrganizationView(c, hp, props) {
  if (!hp.useAuth().isSignedIn) return null;
  const alert = alertBox(c);
  const form = createOrganizationForm(c, hp, alert, null, () => go(props.afterCreateOrganizationUrl ?? null));
  return card(c, { title: c.t("createOrganization.title"), body: [alert, form] });
}
