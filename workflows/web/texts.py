"""What the participant pages say, in English and Dutch (the languages the messages are written in).

Each language has the same keys (``tests/web`` checks it); a text with ``{name}`` is filled in where it
is shown. The English refusals of a link are :data:`engine.delivery.links.REFUSALS`' own.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from engine.delivery.links import REFUSALS

EN: dict[str, str] = {
    "program": "Mentoring program",
    "personal": "This page is personal: please do not forward its address.",
    "refused_title": "This link does not open",
    "not_found": "There is no page at this address. Open the link in the message you received.",
    "home": "This is the site of the mentoring program. Open the personal link in a message from the "
    "program to answer a survey or record a meeting.",
    "form_expired": "This form was not sent from the page of your link. Open the link again and send "
    "the form from there.",
    "not_open": "There is nothing to do on this page right now. If you think there is, ask the "
    "program's coordinator.",
    "survey_not_open": "This survey is not open for you right now (it may belong to an earlier stage "
    "of the mentoring). If you think it should be, ask the program's coordinator.",
    "kickoff_not_open": "The kickoff cannot be recorded at this stage of the mentoring. If it took "
    "place, tell the program's coordinator.",
    "not_for_you": "This page is for the mentor of the pair. Ask the program's coordinator if you "
    "need a link of your own.",
    "not_recorded": "This could not be recorded. Open the link again; if it happens again, ask the "
    "program's coordinator.",
    "busy": "Someone else recorded something for your mentoring at the same moment. Please send the "
    "form again.",
    "policy_changed": "The program's rules were changed a moment ago, so this could not be recorded "
    "yet. Please send the form again later; if it keeps happening, ask the program's coordinator.",
    "rate_limited": "Too many requests came from your address in a short time. Please wait a minute, "
    "then open the link again.",
    "already_title": "Already recorded",
    "done_title": "Thank you",
    "errors_title": "Please check what you entered",
    "required": "Please answer this question.",
    "optional": "(optional)",
    "err_scale": "Choose a number from 1 to 5.",
    "err_recommend": "Choose a number from 0 to 10.",
    "err_yes_no": "Choose yes or no.",
    "err_text": "This text is too long (at most {limit} characters).",
    "err_goals": "Choose a level for each goal.",
    "yes": "Yes",
    "no": "No",
    "reached": "Reached",
    "partly": "Partly",
    "started": "Started",
    "not_started": "Not started",
    "no_goals": "No development goals are recorded for the mentee, so there is nothing to answer here.",
    "survey_submit": "Send my answers",
    "survey_done": "Your answers are recorded. Thank you for taking the time.",
    "survey_already": "Your answers to this survey are already recorded; nothing was changed.",
    "meeting_title": "We met",
    "meeting_intro": "Let the program know that you met {other}.",
    "mentor": "your mentor",
    "mentee": "your mentee",
    "date_label": "Date of the meeting",
    "date_hint": "Today or earlier, not before {began}. Write it as YYYY-MM-DD.",
    "kind_legend": "Kind of meeting",
    "kind_check-in": "The two of us (check-in)",
    "kind_group": "A group session",
    "meeting_submit": "Record the meeting",
    "meeting_done": "The meeting on {day} is recorded. Thank you!",
    "meeting_already": "This meeting ({day}) is already recorded; nothing was changed.",
    "err_date": "Enter the date as YYYY-MM-DD, for example {example}.",
    "err_future": "The date cannot be in the future.",
    "err_early": "The date cannot be before the mentoring began ({began}).",
    "err_kind": "Choose the kind of meeting.",
    "kickoff_title": "The kickoff took place",
    "kickoff_intro": "Confirm that your kickoff meeting was held.",
    "kickoff_label": "Date of the kickoff",
    "kickoff_submit": "Confirm the kickoff",
    "kickoff_done": "The kickoff on {day} is recorded. Thank you!",
    "kickoff_already": "The kickoff is already recorded ({day}); nothing was changed.",
    "training_title": "Mentor training",
    "training_intro": "Confirm that you completed the mentor training.",
    "training_submit": "I completed the training",
    "training_done": "Your training is recorded. Thank you!",
    "training_already": "Your training is already recorded; nothing was changed.",
    "training_reported": "Your training is reported; the coordinator will confirm it. Thank you!",
    "training_waiting": "Already reported: your training waits for the coordinator; nothing was changed.",
    "training_confirm_note": "The coordinator confirms it before it is recorded.",
    "help_title": "I need help / we want to pause",
    "help_intro": "If something is not going well, or you would like to pause or stop the mentoring, "
    "tell the program's coordinator here. They can help you, and can pause or end the mentoring.",
    "help_contact": "Your coordinator",
    "help_no_email": "Reply to the message from the program in which you found this link.",
    "help_legend": "What do you need?",
    "wish_help": "Help: I would like the coordinator to contact me",
    "wish_pause": "A pause: we want to put the mentoring on hold for a while",
    "note_label": "In your own words (optional)",
    "note_hint": "Only the coordinator reads this. At most 2,000 characters.",
    "help_submit": "Send to the coordinator",
    "help_done": "Your coordinator has your request and will contact you.",
    "help_paused": "Your mentoring is paused now: no reminders to meet until it resumes. Your coordinator "
    "has your request.",
    "help_not_paused": "Your coordinator has your request and will decide with you about a pause.",
    "help_already": "Your request is already with the coordinator; nothing was sent again.",
    "err_wish": "Choose help or a pause.",
    "err_note": "Write at most 2,000 characters, without special control characters.",
    "goals_title": "Your development goals",
    "goals_title_mentor": "Your mentee's development goals",
    "goals_intro": "What you want to develop during the mentoring, and how far you got with it. Your mentor "
    "sees these goals too. Change a goal's level whenever you get further.",
    "goals_intro_mentor": "The goals your mentee set for the mentoring, and how far they got with them.",
    "goals_read_only": "Only your mentee can set or change these goals.",
    "goals_closed": "The mentoring has ended, so the goals can no longer be changed.",
    "goals_mentee_only": "Only the mentee can set or change the development goals. Ask the program's "
    "coordinator if something should change.",
    "goals_none": "No development goals are set yet.",
    "goal_col_title": "Goal",
    "goal_col_program": "Program goal",
    "goal_col_target": "Target date",
    "goal_col_level": "Level",
    "goal_serves": "Program goal: {goal}",
    "goal_target": "Target date: {day}",
    "goals_levels_submit": "Save the levels",
    "goal_add_title": "Add a goal",
    "goal_title_label": "Your goal",
    "goal_title_hint": "In a few words, at most {limit} characters.",
    "program_goal_legend": "The program goal it serves",
    "program_goal_none": "None in particular",
    "target_label": "Target date",
    "target_hint": "Today or later, written as YYYY-MM-DD. Leave it empty if there is none.",
    "goal_add_submit": "Add the goal",
    "goals_full": "You have {limit} goals, the most you can have, so you cannot add another.",
    "err_goal_title": "Write your goal in a few words.",
    "err_goal_long": "Write your goal in at most {limit} characters (this one has {length}).",
    "err_goal_twice": "You already have this goal: give a new goal a title of its own.",
    "err_goal_many": "You already have {limit} goals, the most you can have.",
    "err_program_goal": "Choose one of the program goals, or none in particular.",
    "err_target_past": "The target date cannot be in the past.",
    "err_level": "Choose one of the levels: reached, partly, started or not started.",
    "months": "January February March April May June July August September October November December",
}

NL: dict[str, str] = {
    "program": "Mentorprogramma",
    "personal": "Deze pagina is persoonlijk: stuur het adres niet door.",
    "refused_title": "Deze link werkt niet",
    "not_found": "Op dit adres staat geen pagina. Open de link in het bericht dat je kreeg.",
    "home": "Dit is de site van het mentorprogramma. Open de persoonlijke link in een bericht van het "
    "programma om een vragenlijst in te vullen of een gesprek door te geven.",
    "form_expired": "Dit formulier is niet verstuurd vanaf de pagina van je link. Open de link opnieuw "
    "en verstuur het formulier daar.",
    "not_open": "Op deze pagina is nu niets te doen. Denk je van wel, vraag het dan aan de "
    "coördinator van het programma.",
    "survey_not_open": "Deze vragenlijst staat nu niet voor je open (misschien hoort hij bij een "
    "eerdere fase). Denk je dat dat niet klopt, vraag het dan aan de coördinator van het programma.",
    "kickoff_not_open": "De kick-off kan in deze fase niet worden doorgegeven. Vond hij plaats, laat "
    "het dan de coördinator van het programma weten.",
    "not_for_you": "Deze pagina is voor de mentor van het koppel. Vraag de coördinator van het "
    "programma om een eigen link als je die nodig hebt.",
    "not_recorded": "Dit kon niet worden vastgelegd. Open de link opnieuw; gebeurt het weer, vraag "
    "het dan aan de coördinator van het programma.",
    "busy": "Op hetzelfde moment legde iemand anders iets vast over jullie mentortraject. Verstuur "
    "het formulier nog een keer.",
    "policy_changed": "De regels van het programma zijn net gewijzigd, daarom kon dit nog niet worden "
    "vastgelegd. Verstuur het formulier later nog een keer; blijft dit gebeuren, vraag het dan aan de "
    "coördinator van het programma.",
    "rate_limited": "Er kwamen in korte tijd te veel verzoeken van je adres. Wacht een minuut en open "
    "de link dan opnieuw.",
    "already_title": "Al vastgelegd",
    "done_title": "Dank je wel",
    "errors_title": "Controleer wat je hebt ingevuld",
    "required": "Beantwoord deze vraag.",
    "optional": "(niet verplicht)",
    "err_scale": "Kies een getal van 1 tot en met 5.",
    "err_recommend": "Kies een getal van 0 tot en met 10.",
    "err_yes_no": "Kies ja of nee.",
    "err_text": "Deze tekst is te lang (hoogstens {limit} tekens).",
    "err_goals": "Kies een niveau voor elk doel.",
    "yes": "Ja",
    "no": "Nee",
    "reached": "Bereikt",
    "partly": "Gedeeltelijk",
    "started": "Begonnen",
    "not_started": "Niet begonnen",
    "no_goals": "Voor de mentee zijn geen ontwikkeldoelen vastgelegd, dus hier valt niets te beantwoorden.",
    "survey_submit": "Verstuur mijn antwoorden",
    "survey_done": "Je antwoorden zijn vastgelegd. Dank je wel voor je tijd.",
    "survey_already": "Je antwoorden op deze vragenlijst zijn al vastgelegd; er is niets veranderd.",
    "meeting_title": "We hebben elkaar gesproken",
    "meeting_intro": "Laat het programma weten dat je {other} hebt gesproken.",
    "mentor": "je mentor",
    "mentee": "je mentee",
    "date_label": "Datum van het gesprek",
    "date_hint": "Vandaag of eerder, niet vóór {began}. Schrijf hem als JJJJ-MM-DD.",
    "kind_legend": "Soort gesprek",
    "kind_check-in": "Met zijn tweeën (check-in)",
    "kind_group": "Een groepssessie",
    "meeting_submit": "Leg het gesprek vast",
    "meeting_done": "Het gesprek op {day} is vastgelegd. Dank je wel!",
    "meeting_already": "Dit gesprek ({day}) is al vastgelegd; er is niets veranderd.",
    "err_date": "Schrijf de datum als JJJJ-MM-DD, bijvoorbeeld {example}.",
    "err_future": "De datum kan niet in de toekomst liggen.",
    "err_early": "De datum kan niet vóór het begin van het mentortraject liggen ({began}).",
    "err_kind": "Kies het soort gesprek.",
    "kickoff_title": "De kick-off heeft plaatsgevonden",
    "kickoff_intro": "Bevestig dat jullie kick-off is gehouden.",
    "kickoff_label": "Datum van de kick-off",
    "kickoff_submit": "Bevestig de kick-off",
    "kickoff_done": "De kick-off op {day} is vastgelegd. Dank je wel!",
    "kickoff_already": "De kick-off is al vastgelegd ({day}); er is niets veranderd.",
    "training_title": "Mentortraining",
    "training_intro": "Bevestig dat je de mentortraining hebt afgerond.",
    "training_submit": "Ik heb de training afgerond",
    "training_done": "Je training is vastgelegd. Dank je wel!",
    "training_already": "Je training is al vastgelegd; er is niets veranderd.",
    "training_reported": "Je training is gemeld; de coördinator bevestigt die. Dank je wel!",
    "training_waiting": "Je training is al gemeld en wacht op de coördinator; er is niets veranderd.",
    "training_confirm_note": "De coördinator bevestigt het voordat het wordt vastgelegd.",
    "help_title": "Ik heb hulp nodig / we willen pauzeren",
    "help_intro": "Gaat er iets niet goed, of willen jullie het mentortraject pauzeren of stoppen? Laat "
    "het hier de coördinator van het programma weten. Die helpt je, en kan het traject pauzeren of "
    "beëindigen.",
    "help_contact": "Je coördinator",
    "help_no_email": "Beantwoord het bericht van het programma waarin je deze link vond.",
    "help_legend": "Wat heb je nodig?",
    "wish_help": "Hulp: ik wil graag dat de coördinator contact met me opneemt",
    "wish_pause": "Een pauze: we willen het mentortraject een tijd stilleggen",
    "note_label": "In je eigen woorden (niet verplicht)",
    "note_hint": "Alleen de coördinator leest dit. Hoogstens 2.000 tekens.",
    "help_submit": "Stuur naar de coördinator",
    "help_done": "Je coördinator heeft je verzoek en neemt contact met je op.",
    "help_paused": "Je mentortraject is nu gepauzeerd: geen herinneringen voor gesprekken tot het "
    "hervat. Je coördinator heeft je verzoek.",
    "help_not_paused": "Je coördinator heeft je verzoek en besluit samen met je over een pauze.",
    "help_already": "Je verzoek ligt al bij de coördinator; er is niets opnieuw verstuurd.",
    "err_wish": "Kies hulp of een pauze.",
    "err_note": "Schrijf hoogstens 2.000 tekens, zonder speciale stuurtekens.",
    "goals_title": "Je ontwikkeldoelen",
    "goals_title_mentor": "De ontwikkeldoelen van je mentee",
    "goals_intro": "Wat je tijdens het mentortraject wilt ontwikkelen, en hoe ver je daarmee bent. Je mentor "
    "ziet deze doelen ook. Pas het niveau van een doel aan zodra je verder bent.",
    "goals_intro_mentor": "De doelen die je mentee voor het mentortraject heeft gesteld, en hoe ver die "
    "ermee is.",
    "goals_read_only": "Alleen je mentee kan deze doelen stellen of veranderen.",
    "goals_closed": "Het mentortraject is afgelopen, dus de doelen kunnen niet meer worden veranderd.",
    "goals_mentee_only": "Alleen de mentee kan de ontwikkeldoelen stellen of veranderen. Vraag het aan de "
    "coördinator van het programma als er iets moet veranderen.",
    "goals_none": "Er zijn nog geen ontwikkeldoelen gesteld.",
    "goal_col_title": "Doel",
    "goal_col_program": "Programmadoel",
    "goal_col_target": "Streefdatum",
    "goal_col_level": "Niveau",
    "goal_serves": "Programmadoel: {goal}",
    "goal_target": "Streefdatum: {day}",
    "goals_levels_submit": "Sla de niveaus op",
    "goal_add_title": "Voeg een doel toe",
    "goal_title_label": "Je doel",
    "goal_title_hint": "In een paar woorden, hoogstens {limit} tekens.",
    "program_goal_legend": "Het programmadoel waar het bij hoort",
    "program_goal_none": "Geen in het bijzonder",
    "target_label": "Streefdatum",
    "target_hint": "Vandaag of later, geschreven als JJJJ-MM-DD. Laat het leeg als er geen is.",
    "goal_add_submit": "Voeg het doel toe",
    "goals_full": "Je hebt {limit} doelen, het maximum, dus je kunt er geen meer toevoegen.",
    "err_goal_title": "Schrijf je doel in een paar woorden.",
    "err_goal_long": "Schrijf je doel in hoogstens {limit} tekens (dit zijn er {length}).",
    "err_goal_twice": "Je hebt dit doel al: geef een nieuw doel een eigen titel.",
    "err_goal_many": "Je hebt al {limit} doelen, het maximum.",
    "err_program_goal": "Kies een van de programmadoelen, of geen in het bijzonder.",
    "err_target_past": "De streefdatum kan niet in het verleden liggen.",
    "err_level": "Kies een van de niveaus: bereikt, gedeeltelijk, begonnen of niet begonnen.",
    "months": "januari februari maart april mei juni juli augustus september oktober november december",
}

REFUSALS_NL: dict[str, str] = {
    "tampered": "Deze link is onvolledig of veranderd. Open hem opnieuw vanuit het bericht dat je kreeg, "
    "met het hele adres; helpt dat niet, vraag dan de coördinator van het programma om een nieuwe link.",
    "expired": "Deze link is verlopen. Vraag de coördinator van het programma om een nieuwe.",
    "revoked": "Deze link is ingetrokken. Vraag de coördinator van het programma om een nieuwe.",
    "wrong_purpose": "Deze link is voor een andere pagina van het mentorprogramma. Open de link in het "
    "bericht over deze pagina, of vraag het aan de coördinator van het programma.",
    "wrong_person": "Deze link is gemaakt voor iemand die niet meer in dit koppel zit. Vraag de "
    "coördinator van het programma om een eigen link.",
}

TEXTS: dict[str, dict[str, str]] = {
    "en": {**EN, **{f"refusal_{kind}": text for kind, (_, text) in REFUSALS.items()}},
    "nl": {**NL, **{f"refusal_{kind}": text for kind, text in REFUSALS_NL.items()}},
}


def texts(language: str) -> dict[str, str]:
    """The texts of ``language`` (English for a language the pages are not written in)."""
    return TEXTS.get(language, TEXTS["en"])


def day(value: date, language: str) -> str:
    """A date as people read it: ``2 March 2026``, ``2 maart 2026``."""
    month = texts(language)["months"].split()[value.month - 1]
    return f"{value.day} {month} {value.year}"


def filled(text: str, **values: Any) -> str:
    """``text`` with its ``{name}`` places filled in."""
    return text.format(**values)
