"""The embed page's own words (its heading, kind names, "verified 3 days ago"…), per language.

Why a catalogue of our own: listings bring their texts in their languages, and CLDR (through
Babel) gives the relative times ("3 days ago"), but nothing gives the few words around them.
They are short, so they live here as data, one entry per language: the languages the dataset
has texts in, plus Arabic and Hebrew (right to left, like Persian). Each ``{ago}`` is filled
with CLDR's relative time in the same language. A language missing here falls back as texts
do (api/i18n.py): the same language in another region, else English.

The translations are ours, not a professional's; corrections are welcome (docs/partners.md).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EMBED_TEXTS", "EmbedText"]


@dataclass(frozen=True, slots=True)
class EmbedText:
    """The page's words in one language."""

    heading: str
    donation: str
    petition: str
    organization: str
    verified: str
    """With ``{ago}``: CLDR's relative time ("3 days ago") in this language."""
    verified_today: str
    link_checked: str
    """With ``{ago}``, after ``verified`` on the same line."""
    link_checked_today: str
    new_tab: str
    """Read by screen readers after each link: every link opens a new tab."""
    empty: str
    footer: str
    danger: str
    """The heading of a danger note (issue 10's ``safety``) above a listing."""
    caution: str

    def kind(self, kind: str) -> str:
        return {"donation": self.donation, "petition": self.petition, "organization": self.organization}[kind]


EMBED_TEXTS: dict[str, EmbedText] = {
    "en": EmbedText(
        heading="Ways to help", donation="Donation", petition="Petition", organization="Organization",
        verified="Verified {ago}", verified_today="Verified today",
        link_checked="link checked {ago}", link_checked_today="link checked today",
        new_tab="opens in a new tab", empty="Nothing to show here yet.",
        footer="Listings vetted by Action Directory", danger="Warning", caution="Caution",
    ),
    "ar": EmbedText(
        heading="طرق المساعدة", donation="تبرّع", petition="عريضة", organization="منظمة",
        verified="تم التحقق {ago}", verified_today="تم التحقق اليوم",
        link_checked="فُحص الرابط {ago}", link_checked_today="فُحص الرابط اليوم",
        new_tab="يُفتح في علامة تبويب جديدة", empty="لا يوجد ما يُعرض بعد.",
        footer="قوائم تحقّق منها Action Directory", danger="تحذير", caution="تنبيه",
    ),
    "de": EmbedText(
        heading="Wie Sie helfen können", donation="Spende", petition="Petition", organization="Organisation",
        verified="Geprüft {ago}", verified_today="Heute geprüft",
        link_checked="Link {ago} geprüft", link_checked_today="Link heute geprüft",
        new_tab="öffnet in einem neuen Tab", empty="Noch nichts anzuzeigen.",
        footer="Einträge geprüft von Action Directory", danger="Warnung", caution="Vorsicht",
    ),
    "es": EmbedText(
        heading="Formas de ayudar", donation="Donación", petition="Petición", organization="Organización",
        verified="Verificado {ago}", verified_today="Verificado hoy",
        link_checked="enlace comprobado {ago}", link_checked_today="enlace comprobado hoy",
        new_tab="se abre en una pestaña nueva", empty="Todavía no hay nada que mostrar.",
        footer="Entradas verificadas por Action Directory", danger="Advertencia", caution="Precaución",
    ),
    "fa": EmbedText(
        heading="راه‌های کمک", donation="کمک مالی", petition="دادخواست", organization="سازمان",
        verified="تأیید شده {ago}", verified_today="امروز تأیید شد",
        link_checked="پیوند {ago} بررسی شد", link_checked_today="پیوند امروز بررسی شد",
        new_tab="در زبانه‌ای تازه باز می‌شود", empty="هنوز موردی برای نمایش نیست.",
        footer="فهرست‌های بررسی‌شده توسط Action Directory", danger="هشدار", caution="احتیاط",
    ),
    "fr": EmbedText(
        heading="Comment aider", donation="Don", petition="Pétition", organization="Organisation",
        verified="Vérifié {ago}", verified_today="Vérifié aujourd’hui",
        link_checked="lien contrôlé {ago}", link_checked_today="lien contrôlé aujourd’hui",
        new_tab="s’ouvre dans un nouvel onglet", empty="Rien à afficher pour l’instant.",
        footer="Fiches vérifiées par Action Directory", danger="Avertissement", caution="Prudence",
    ),
    "he": EmbedText(
        heading="דרכים לעזור", donation="תרומה", petition="עצומה", organization="ארגון",
        verified="אומת {ago}", verified_today="אומת היום",
        link_checked="הקישור נבדק {ago}", link_checked_today="הקישור נבדק היום",
        new_tab="נפתח בכרטיסייה חדשה", empty="אין עדיין מה להציג.",
        footer="רשומות שנבדקו על ידי Action Directory", danger="אזהרה", caution="זהירות",
    ),
    "hu": EmbedText(
        heading="Hogyan segíthetsz", donation="Adomány", petition="Petíció", organization="Szervezet",
        verified="Ellenőrizve: {ago}", verified_today="Ellenőrizve: ma",
        link_checked="link ellenőrizve: {ago}", link_checked_today="link ellenőrizve: ma",
        new_tab="új lapon nyílik meg", empty="Egyelőre nincs mit megjeleníteni.",
        footer="Az Action Directory által ellenőrzött bejegyzések", danger="Figyelmeztetés", caution="Óvatosan",
    ),
    "id": EmbedText(
        heading="Cara membantu", donation="Donasi", petition="Petisi", organization="Organisasi",
        verified="Diverifikasi {ago}", verified_today="Diverifikasi hari ini",
        link_checked="tautan diperiksa {ago}", link_checked_today="tautan diperiksa hari ini",
        new_tab="terbuka di tab baru", empty="Belum ada yang bisa ditampilkan.",
        footer="Daftar diverifikasi oleh Action Directory", danger="Peringatan", caution="Hati-hati",
    ),
    "pl": EmbedText(
        heading="Jak pomóc", donation="Darowizna", petition="Petycja", organization="Organizacja",
        verified="Zweryfikowano {ago}", verified_today="Zweryfikowano dzisiaj",
        link_checked="link sprawdzono {ago}", link_checked_today="link sprawdzono dzisiaj",
        new_tab="otwiera się w nowej karcie", empty="Na razie nie ma nic do pokazania.",
        footer="Wpisy zweryfikowane przez Action Directory", danger="Ostrzeżenie", caution="Uwaga",
    ),
    "pt": EmbedText(
        heading="Como ajudar", donation="Doação", petition="Petição", organization="Organização",
        verified="Verificado {ago}", verified_today="Verificado hoje",
        link_checked="link conferido {ago}", link_checked_today="link conferido hoje",
        new_tab="abre em uma nova aba", empty="Ainda não há nada para mostrar.",
        footer="Itens verificados pelo Action Directory", danger="Aviso", caution="Cuidado",
    ),
    "ru": EmbedText(
        heading="Как помочь", donation="Пожертвование", petition="Петиция", organization="Организация",
        verified="Проверено {ago}", verified_today="Проверено сегодня",
        link_checked="ссылка проверена {ago}", link_checked_today="ссылка проверена сегодня",
        new_tab="откроется в новой вкладке", empty="Пока здесь ничего нет.",
        footer="Записи проверены Action Directory", danger="Предупреждение", caution="Осторожно",
    ),
    "sw": EmbedText(
        heading="Njia za kusaidia", donation="Mchango", petition="Ombi", organization="Shirika",
        verified="Imethibitishwa {ago}", verified_today="Imethibitishwa leo",
        link_checked="kiungo kimekaguliwa {ago}", link_checked_today="kiungo kimekaguliwa leo",
        new_tab="hufunguka kwenye kichupo kipya", empty="Hakuna cha kuonyesha bado.",
        footer="Orodha zimethibitishwa na Action Directory", danger="Onyo", caution="Tahadhari",
    ),
    "tr": EmbedText(
        heading="Nasıl yardım edebilirsiniz", donation="Bağış", petition="İmza kampanyası", organization="Kuruluş",
        verified="{ago} doğrulandı", verified_today="Bugün doğrulandı",
        link_checked="bağlantı {ago} kontrol edildi", link_checked_today="bağlantı bugün kontrol edildi",
        new_tab="yeni sekmede açılır", empty="Henüz gösterilecek bir şey yok.",
        footer="Kayıtlar Action Directory tarafından doğrulandı", danger="Uyarı", caution="Dikkat",
    ),
    "uk": EmbedText(
        heading="Як допомогти", donation="Пожертва", petition="Петиція", organization="Організація",
        verified="Перевірено {ago}", verified_today="Перевірено сьогодні",
        link_checked="посилання перевірено {ago}", link_checked_today="посилання перевірено сьогодні",
        new_tab="відкриється в новій вкладці", empty="Поки що тут нічого немає.",
        footer="Записи перевірені Action Directory", danger="Попередження", caution="Обережно",
    ),
}
