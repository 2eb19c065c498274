package text

import (
	"embed"
	"strings"
)

// Stopword lists, one per language, as space-separated words in their
// usual written form; NewAnalyzer normalises and case-folds them the same
// way it does input text, so the lists need not care about NFKC or case.
//
// The lists hold closed-class function words (articles, pronouns,
// prepositions, conjunctions, auxiliaries) in the spirit of the Snowball
// project's stop lists. English deliberately uses the short 33-word list of
// Lucene's StandardAnalyzer and Anserini's BM25 baselines: long English
// lists remove words such as "not", "all" or "between" whose loss hurts
// retrieval on scientific text more than it saves. To it we add the
// question words, auxiliaries and pronouns that fill natural-language
// questions ("how do I …", "what does … do") and carry no topic: RAG
// queries are questions, and without these "how" and "does" match every
// example sentence that happens to contain them.
var stopwordLists = map[string]string{
	"en": `a an and are as at be but by for if in into is it no not of on or such
that the their then there these they this to was will with
what which who whom whose how why when where do does did done can could should would
i me my we our you your has have had been being were am`,

	"de": `aber alle allem allen aller alles als also am an ander andere anderem
anderen anderer anderes anderm andern anderr anders auch auf aus bei bin bis bist
da damit dann das dass daß dasselbe dazu dein deine deinem deinen deiner deines dem
demselben den denn denselben der derer derselbe derselben des desselben dessen dich
die dies diese dieselbe dieselben diesem diesen dieser dieses dir doch dort du durch
ein eine einem einen einer eines einig einige einigem einigen einiger einiges
einmal er es etwas euch euer eure eurem euren eurer eures für gegen gewesen hab
habe haben hat hatte hatten hier hin hinter ich ihm ihn ihnen ihr ihre ihrem ihren
ihrer ihres im in indem ins ist jede jedem jeden jeder jedes jene jenem jenen jener
jenes jetzt kann kein keine keinem keinen keiner keines können könnte machen man
manche manchem manchen mancher manches mein meine meinem meinen meiner meines mich
mir mit muss musste nach nicht nichts noch nun nur ob oder ohne sehr sein seine
seinem seinen seiner seines selbst sich sie sind so solche solchem solchen solcher
solches soll sollte sondern sonst über um und uns unser unsere unserem unseren
unserer unseres unter viel vom von vor während war waren warst was weg weil weiter
welche welchem welchen welcher welches wenn werde werden wie wieder will wir wird
wirst wo wollen wollte würde würden zu zum zur zwar zwischen`,

	"es": `a al algo algunas algunos ante antes como con contra cual cuando de del
desde donde durante e el ella ellas ellos en entre era erais eran eras eres es esa
esas ese eso esos esta estaba estaban estado estamos estar estas este esto estos
estoy están está fue fueron fui ha han has hasta hay haya he hemos la las le les
lo los me mi mis mucho muchos muy más mí mía mías mío míos nada ni no nos nosotras
nosotros nuestra nuestras nuestro nuestros o os otra otras otro otros para pero
poco por porque que quien quienes qué se sea sean ser si sido siendo sin sobre
sois somos son su sus suya suyas suyo suyos sí también tanto te tenemos tener
tengo ti tiene tienen todo todos tu tus tuya tuyas tuyo tuyos tú un una uno unos
vosotras vosotros vuestra vuestras vuestro vuestros y ya yo él`,

	"fr": `a ai aie aient ait as au aura aurai auraient aurais aurait aux avaient
avais avait avec avez aviez avions avoir avons ayant c ce ceci cela celà ces cet
cette d dans de des du elle elles en es est et eu eux furent fut j l la le les
leur leurs lui m ma mais me mes moi mon même n ne nos notre nous on ont ou où par
pas pour qu que quel quelle quelles quels qui s sa sans se sera serai seraient
serait ses soi soient soit sommes son sont soyez suis sur t ta te tes toi ton tu un
une vos votre vous y à étaient était étant été êtes être`,

	"it": `a abbia abbiamo abbiano ad agl agli ai al all alla alle allo anche avere
aveva avevano c che chi ci coi col come con contro cui da dagl dagli dai dal dall
dalla dalle dallo degl degli dei del dell della delle dello di dov dove e ed era
erano essere fu furono gli ha hai hanno ho i il in io l la le lei li lo loro lui
ma mi mia mie miei mio ne negl negli nei nel nell nella nelle nello noi non nostra
nostre nostri nostro o per perché più quale quanta quante quanti quanto quella
quelle quelli quello questa queste questi questo se si sia siamo siano sono stata
stati stato su sua sue sugl sugli sui sul sull sulla sulle sullo suo suoi ti tra
tu tua tue tuo tuoi tutti tutto un una uno vi voi vostra vostre vostri vostro è`,

	"pt": `a ao aos aquela aquelas aquele aqueles aquilo as até com como da das
de dela delas dele deles depois do dos e ela elas ele eles em entre era eram essa
essas esse esses esta estas este estes eu foi foram há isso isto já lhe lhes mais
mas me mesmo meu meus minha minhas muito na nas nem no nos nossa nossas nosso
nossos num numa não nós o os ou para pela pelas pelo pelos por qual quando que
quem se sem ser seu seus só sua suas também te tem teu teus tu tua tuas têm um uma
você vocês vos à às é são`,

	"nl": `aan al alles als altijd andere ben bij daar dan dat de der deze die dit
doch doen door dus een eens en er ge geen geweest haar had heb hebben heeft hem het
hier hij hoe hun iemand iets ik in is ja je kan kon kunnen maar me meer men met mij
mijn moet na naar niet niets nog nu of om omdat onder ons ook op over reeds te
tegen toch toen tot u uit uw van veel voor want waren was wat werd wezen wie wil
worden wordt zal ze zelf zich zij zijn zo zonder zou`,

	"ru": `а без более больше будет будто бы был была были было быть в вам вас
вдруг ведь во вот впрочем все всегда всего всех всю вы где да даже два для до
другой его ее ей ему если есть еще ж же за зачем здесь и из или им иногда их к
как какая какой когда конечно кто куда ли лучше между меня мне много может можно
мой моя мы на над надо наконец нас не него нее ней нельзя нет ни нибудь никогда
ним них ничего но ну о об один он она они опять от перед по под после потом
потому почти при про раз разве с сам свою себе себя сейчас со совсем так также
такой там тебя тем теперь то тогда того тоже только том тот три тут ты у уж уже
хорошо хоть чего чем через что чтоб чтобы чуть эти этого этой этом этот эту это
я`,

	"ar": `في من على إلى الى عن مع هذا هذه ذلك تلك هؤلاء التي التى الذي الذين
اللذان اللتان اللواتي ما لا لم لن قد كان كانت يكون تكون هو هي هم هن هما أنا نحن
أنت أنتم و ف ثم أو او أم بل لكن إن ان أن كل بعض غير بين عند حتى إذا اذا إذ كما
أي أيضا ايضا منذ بعد قبل حيث ليس عليه عليها فيه فيها منه منها له لها لهم به بها
وقد وكان ولا وفي ومن وهو وهي وأن وإن وما ولم وكانت وهذا وهذه التي`,

	"hi": `अंदर अत अपना अपनी अपने अभी आदि आप इत्यादि इन इनका इन्हीं इन्हें इन्हों
इस इसका इसकी इसके इसमें इसी इसे उन उनका उनकी उनके उनको उन्हीं उन्हें उन्हों उस
उसके उसी उसे एक एवं एस ऐसे और कई कर करता करते करना करने करें कहते कहा का
काफ़ी कि कितना किन्हें किन्हों किया किस किसी किसे की कुछ कुल के को कोई कौन
कौनसा गया जब जहाँ जा जितना जिन जिन्हें जिन्हों जिस जिसे जैसा जैसे जो तक तब तरह
तिन तिन्हें तिन्हों तिस तिसे तो था थी थे दिया दूसरे दो द्वारा न नहीं ना नीचे
ने पर पहले पूरा पे फिर बनी बही बहुत बाद बाला बिलकुल भी भीतर मगर मानो मे में
यदि यह यहाँ यही या ये रखें रहा रहे लिए लिये लेकिन व वह वहाँ वहीं वाले वे
सकता सकते सबसे सभी साथ सारा से सो ही हुआ हुई हुए है हैं हो होता होती होते
होना होने`,

	"sv": `alla allt att av blev bli blir blivit de dem den denna deras dess dessa
det detta dig din dina ditt du där då efter ej eller en er era ert ett från för
ha hade han hans har henne hennes hon honom hur här i icke ingen inom inte jag ju
kan kunde man med mellan men mig min mina mitt mot mycket ni nu när någon något
några och om oss på samma sedan sig sin sina sitt själv skulle som så sådan sådana
sådant till under upp ut utan vad var vara varför varit varje vars vart vem vi vid
vilka vilkas vilken vilket vår våra vårt än är åt över`,

	"da": `ad af alle alt anden at blev blive bliver da de dem den denne der deres
det dette dig din disse dog du efter eller en end er et for fra ham han hans har
havde have hende hendes her hos hun hvad hvis hvor i ikke ind jeg jer jo kunne man
mange med meget men mig min mine mit mod ned noget nogle nu når og også om op os
over på selv sig sin sine sit skal skulle som sådan thi til ud under var vi vil
ville vor være været`,

	"no": `alle at av bare begge ble blei bli blir blitt både da dei deira deim
deires dem den denne der dere deres det dette di din disse ditt du då eg ein eit
eitt eller elles en enn er et ett etter for fordi fra før ha hadde han hans har hennar
henne hennes her hjå ho hoe honom hoss hossen hun hva hvem hver hvilke hvilken
hvis hvor hvordan hvorfor i ikke ikkje ingen ingi inkje inn inni ja jeg kan kom
korleis korso kun kunne kva kvar kvarhelst kven kvi kvifor man mange me med medan
meg meget mellom men mi min mine mitt mot mykje ned no noe noen noka noko nokon
nokor nokre nå når og også om opp oss over på samme seg selv si sia sidan siden
sin sine sitt sjøl skal skulle slik so som somme somt så sånn til um upp ut uten
var vart varte ved vere verte vi vil ville vore vors vort vår være vært å`,

	"fi": `ei eivät emme en et ette että he heidän heidät heitä hän hänen hänet
häntä itse ja johon joiden joihin joiksi joilla joille joilta joina joissa joista
joita joka joksi jolla jolle jolta jona jonka jos jossa josta jota jotka kanssa
keiden keihin keiksi keille keiltä keinä keissä keistä keitä keneen keneksi kenellä
kenelle keneltä kenen kenenä kenessä kenestä kenet ketkä ketä koska kuin kuka kun
me meidän meidät meihin meille meiltä meissä meistä meitä mihin mikä miksi millä
mille miltä minkä minua minulla minulle minulta minun minussa minusta minut minuun
minä missä mistä mitkä mitä mukaan mutta ne niiden niihin niiksi niillä niille
niiltä niin niinä niissä niistä niitä noiden noihin noiksi noilla noille noilta
noin noina noissa noista noita nuo nyt näiden näihin näiksi näillä näille näiltä
näinä näissä näistä näitä nämä ole olemme olen olet olette oli olimme olin olisi
olisimme olisin olisit olisitte olisivat olit olitte olivat olla olleet ollut on
ovat poikki se sekä sen siihen siinä siitä siksi sille siltä sinua sinulla sinulle
sinulta sinun sinussa sinusta sinut sinuun sinä sitä tai te teidän teidät teihin
teille teiltä teissä teistä teitä tuo tuohon tuoksi tuolla tuolle tuolta tuon tuona
tuossa tuosta tuota tähän täksi tälle tältä tämä tämän tänä tässä tästä tätä vaan
vai vaikka yli`,

	"hu": `a abban ahhoz ahogy ahol aki akik akkor alatt amely amelyek amelyekben
amelyeket amelyet amelynek ami amikor amit amolyan amíg annak arra arról az azok
azon azonban azt aztán azután azzal azért be belül benne bár
csak de e ebben eddig egy egyes egyetlen egyik egyre egyéb egész ehhez ekkor el
ellen elő először előtt első emilyen ennek erre ez ezek ezen ezt ezzel ezért fel
felé hanem hiszen hogy hogyan igen ill illetve ilyen ilyenkor ismét ison itt jobban
jól kell kellett keresztül ki kívül között közül legalább legyen lehet
lehetett lenne lenni lesz lett maga magát majd meg mellett mely melyek mert mi mikor
milyen minden mindenki mindent mindig mint mintha mit mivel miért most már más
másik még míg nagy nagyobb nagyon ne nekem neki nem nincs néha néhány nélkül olyan
ott pedig persze rá s saját sem semmi sok sokat sokkal szemben szerint szinte
számára talán tehát teljes tovább továbbá több ugyanis utolsó után utána vagy
vagyis vagyok valaki valami valamint való van vannak vele vissza viszont volna volt
voltak voltam voltunk által általában át én éppen és így ő ők őket össze úgy új
újabb újra`,

	"ro": `a acea aceasta această aceea acei aceia acel acela acelasi acest acesta
aceste acestea acestei acestia acestui aceşti aceştia acolo acum ai aia aibă aici
al ale alea alt alta altceva altcineva am ar are aş aşadar asta astăzi astea astfel
asupra au avea avem aveţi azi bine ca că căci când care cărei căror cărui cât câte
câţi către ce cel ceva chiar cine cineva cu cum cumva da dacă dar de deci deja deşi
din dintre doar după ea ei el ele eram este eşti eu fi fie fiecare fiind foarte
fost fără i îi îl îmi în înainte însă între îţi la le li lor lui mă mai mult multe
mulţi ne nici nimic nişte noi nostru nu o oricare orice pe pentru peste poate prin
sa să sau se şi sunt sus ta te tot toată toate toţi tu un una unde unei unele
uneori unor vă voi vom vor`,

	"tr": `acaba altı ama ancak artık asla aslında az bana bazen bazı bazıları belki
ben beni benim beş bile bir birçok biri birkaç birşey biz bize bizi bizim böyle
böylece bu buna bunda bundan bunu bunun burada bütün çoğu çoğunu çok çünkü da
daha de değil diğer diye dokuz dört elli en gibi hem hep hepsi her hiç iki ile
ise için işte kadar kendi kendine ki kim kime kimi kimin mi mı mu mü nasıl ne
neden nerde nerede nereye niye niçin o ona ondan onlar onları onların onu onun
orada otuz şey şu şunu ve veya ya yani yedi yetmiş yine yirmi yoksa yüz`,
}

// elisions lists, per language, the elided articles and prepositions that
// the word segmenter leaves attached to the next word ("l'homme",
// "dell'anno"). They are removed before the stopword and stemming steps.
var elisions = map[string][]string{
	"fr": {"l'", "d'", "j'", "m'", "n'", "s'", "t'", "c'", "qu'", "jusqu'", "lorsqu'", "puisqu'", "quoiqu'"},
	"it": {"l'", "d'", "c'", "s'", "un'", "dell'", "all'", "dall'", "nell'", "sull'", "quest'", "quell'", "nessun'"},
	"ga": {"d'", "b'", "m'"},
	"ca": {"d'", "l'", "m'", "n'", "s'", "t'"}, // Lucene's CatalanAnalyzer elisions
}

//go:embed data/stopwords/*.txt data/detect/*.txt
var stopwordFiles embed.FS

// stopwords returns the stopword list of lang as space-separated words:
// the lists above, else Lucene's list for the language (see
// data/NOTICE), with its comments ('#' lines, and anything after '|' as in
// the Snowball format) removed.
func stopwords(lang string) (string, bool) {
	if s, ok := stopwordLists[lang]; ok {
		return s, true
	}
	if lang == "" || strings.ContainsAny(lang, "./\\") {
		return "", false
	}
	raw, err := stopwordFiles.ReadFile("data/stopwords/" + lang + ".txt")
	if err != nil {
		return "", false
	}
	// Lucene's Thai list spells sara am as nikhahit + sara aa, the NFKC
	// form; text, the word lists and the segmenter use sara am.
	return saraAm.Replace(parseStopList(string(raw))), true
}

var saraAm = strings.NewReplacer("\u0e4d\u0e32", "\u0e33", "\u0ecd\u0eb2", "\u0eb3")

// parseStopList returns the words of a Lucene or Snowball stopword file
// separated by spaces.
func parseStopList(raw string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(raw, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if i := strings.IndexByte(line, '|'); i >= 0 {
			line = line[:i]
		}
		b.WriteString(line)
		b.WriteByte(' ')
	}
	return b.String()
}

// lightStemmers are the published light stemmers used for languages
// Snowball (in the library used) does not cover.
var lightStemmers = map[string]func(string) string{
	"ar": stemArabic,
	"hi": stemHindi,
	"cs": stemCzech,
	"bg": stemBulgarian,
	"id": stemIndonesian,
	"de": stemGerman,
}

// procliticStrippers remove the clitics written before a word, ahead of
// the light stemmer of the same language.
var procliticStrippers = map[string]func(string) string{
	"ar": stripArabicProclitics,
}

// segmentedLanguages are accepted although they may have neither stemmer
// nor stopwords: their scripts are segmented by script, not by language
// (CJK bigrams; dictionary words or cluster bigrams for Thai, Lao, Khmer
// and Myanmar).
var segmentedLanguages = map[string]bool{
	"zh": true, "ja": true, "ko": true, "th": true, "lo": true, "km": true, "my": true,
}
